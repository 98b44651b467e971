import Testing
import Foundation
import KeepalivedConfig
@testable import VRRP

let captures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/vrrp-lab/examples/results")

@Suite struct VRRPCodecTests {
    /// Every advert keepalived sent in the lab's reference runs decodes, carries a valid
    /// checksum and re-encodes to the same bytes.
    @Test(arguments: ["v2-mcast-2h", "v2-mcast", "v2-mcast-adv3", "v2-mcast-garp-fix", "v2-unicast", "v3-mcast"])
    func referenceCapturesRoundTrip(name: String) throws {
        let pcap = try PcapReader(path: captures.appendingPathComponent("\(name).pcap").path)
        let frames = pcap.vrrpFrames
        #expect(frames.count > 50)
        var priorities = Set<UInt8>()
        for f in frames {
            let src = IPAddress(bytes: f.source)!, dst = IPAddress(bytes: f.destination)!
            let ad = try VRRPAdvertisement.decode(f.payload[...], family: src.isIPv6).get()
            #expect(ad.version == (name == "v3-mcast" ? 3 : 2))
            #expect(ad.virtualRouterID == 47)
            #expect(ad.addresses == [IPAddress("10.99.0.50")!])
            #expect(ad.advertIntervalCentiseconds == (name == "v2-mcast-adv3" ? 300 : 100))
            #expect(ad.checksum == ad.computedChecksum(source: src, destination: dst))
            #expect(ad.encoded(source: src, destination: dst) == f.payload)
            #expect(f.ttl == 255)
            #expect(dst == (name == "v2-unicast" ? dst : IPAddress("224.0.0.18")!))
            let filter = VRRPReceiveFilter(version: ad.version, virtualRouterID: 47, ipv6: false, advertIntervalSeconds: name == "v2-mcast-adv3" ? 3 : 1,
                                           unicastPeers: name == "v2-unicast" ? [IPAddress("10.99.0.11")!, IPAddress("10.99.0.12")!, IPAddress("10.99.0.13")!] : [])
            #expect(filter.check(source: src, destination: dst, ttl: f.ttl, payload: f.payload[...]) == .accepted(ad))
            let ip = try #require(IPv4Header.parse(f.ipDatagram[...]))
            #expect(ip.source == src && ip.ttl == 255 && ip.ipProtocol == 112 && ip.headerLength == 20)
            priorities.insert(ad.priority)
        }
        // The story of the run: healthy masters, failed track scripts, a SIGTERM's priority 0.
        #expect(priorities.isSuperset(of: [0, 112, 102, 111]))
    }

    @Test func knownPacketsByteForByte() {
        // From the v2 reference capture: h1 at priority 112, checksum 0x6439.
        let v2 = VRRPAdvertisement(version: 2, virtualRouterID: 47, priority: 112, advertInterval: 1, addresses: [IPAddress("10.99.0.50")!])
        #expect(v2.encoded(source: IPAddress("10.99.0.11")!, destination: IPAddress("224.0.0.18")!) ==
                [0x21, 0x2f, 0x70, 0x01, 0x00, 0x01, 0x64, 0x39, 10, 99, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0])
        // v3 with the IPv4 pseudo-header: checksum 0x68d9.
        let v3 = VRRPAdvertisement(version: 3, virtualRouterID: 47, priority: 112, advertInterval: 100, addresses: [IPAddress("10.99.0.50")!])
        #expect(v3.encoded(source: IPAddress("10.99.0.11")!, destination: IPAddress("224.0.0.18")!) ==
                [0x31, 0x2f, 0x70, 0x01, 0x00, 0x64, 0x68, 0xd9, 10, 99, 0, 50])
    }

    @Test func gratuitousARPMatchesKeepalived() throws {
        let pcap = try PcapReader(path: captures.appendingPathComponent("v2-mcast.pcap").path)
        let garps = pcap.gratuitousARPs.filter { Array($0[28..<32]) == [10, 99, 0, 50] }
        #expect(!garps.isEmpty)
        for g in garps {
            #expect(GratuitousARP.frame(senderMAC: Array(g[6..<12]), address: IPAddress("10.99.0.50")!) == g)
        }
    }

    @Test func ipv6Version3() throws {
        let src = IPAddress("fe80::200:aff:fe63:b")!, dst = IPAddress("ff02::12")!
        let ad = VRRPAdvertisement(version: 3, virtualRouterID: 9, priority: 100, advertInterval: 50, addresses: [IPAddress("fe80::1")!, IPAddress("2001:db8::50")!])
        let bytes = ad.encoded(source: src, destination: dst)
        #expect(bytes.count == 8 + 32)
        var c = InternetChecksum()
        c.add(VRRPAdvertisement.pseudoHeader(source: src, destination: dst, length: bytes.count))
        c.add(bytes)
        #expect(c.value == 0)
        let filter = VRRPReceiveFilter(version: 3, virtualRouterID: 9, ipv6: true)
        guard case .accepted(let back) = filter.check(source: src, destination: dst, ttl: 255, payload: bytes[...]) else {
            Issue.record("not accepted"); return
        }
        #expect(back.addresses == ad.addresses && back.advertIntervalCentiseconds == 50)
    }

    @Test func badPacketsAreDroppedWithAReason() {
        let src = IPAddress("10.99.0.11")!, dst = IPAddress("224.0.0.18")!
        let good = VRRPAdvertisement(version: 2, virtualRouterID: 47, priority: 100, advertInterval: 1, addresses: [IPAddress("10.99.0.50")!],
                                     authType: 1, authData: VRRPAdvertisement.passwordBytes("secret"))
        let filter = VRRPReceiveFilter(version: 2, virtualRouterID: 47, ipv6: false, authType: 1, authData: VRRPAdvertisement.passwordBytes("secret"), advertIntervalSeconds: 1)
        let bytes = good.encoded(source: src, destination: dst)
        func check(_ b: [UInt8], ttl: UInt8 = 255, from: IPAddress = src, _ f: VRRPReceiveFilter? = nil) -> VRRPReceiveFilter.Outcome {
            (f ?? filter).check(source: from, destination: dst, ttl: ttl, payload: b[...])
        }
        var sent = good; sent.checksum = good.computedChecksum(source: src, destination: dst)
        #expect(check(bytes) == .accepted(sent))
        #expect(check(bytes, ttl: 254) == .dropped(.badTTL))
        #expect(check([]) == .dropped(.tooShort))
        #expect(check(Array(bytes.prefix(7))) == .dropped(.tooShort))
        #expect(check(Array(bytes.dropLast())) == .dropped(.tooShort))
        #expect(check(bytes + [0]) == .dropped(.tooLong))
        #expect(check(bytes + [UInt8](repeating: 0xaa, count: 2000)) == .dropped(.tooLong))
        var corrupt = bytes; corrupt[9] ^= 1
        #expect(check(corrupt) == .dropped(.badChecksum))
        var v3 = good; v3.version = 3
        #expect(check(v3.encoded(source: src, destination: dst)) == .dropped(.badVersion))
        var v1 = bytes; v1[0] = 0x11
        #expect(check(v1) == .dropped(.badVersion))
        var t2 = good; t2.type = 2
        #expect(check(t2.encoded(source: src, destination: dst)) == .dropped(.badType))
        var vrid = good; vrid.virtualRouterID = 48
        #expect(check(vrid.encoded(source: src, destination: dst)) == .otherVirtualRouter(48))
        var wrongPass = good; wrongPass.authData = VRRPAdvertisement.passwordBytes("guess")
        #expect(check(wrongPass.encoded(source: src, destination: dst)) == .dropped(.authFailure))
        var noAuth = good; noAuth.authType = 0
        #expect(check(noAuth.encoded(source: src, destination: dst)) == .dropped(.authTypeMismatch))
        var slow = good; slow.advertInterval = 3
        #expect(check(slow.encoded(source: src, destination: dst)) == .dropped(.advertIntervalMismatch))
        var unicast = filter; unicast.unicastPeers = [IPAddress("10.99.0.12")!]
        #expect(check(bytes, unicast) == .dropped(.unknownPeer))
        // Unicast: keepalived accepts any TTL (the peer may be routed) unless the peer has
        // min_ttl/max_ttl; then outside the range is dropped as a TTL error.
        unicast.unicastPeers = [src]
        #expect(check(bytes, ttl: 254, unicast) == .accepted(sent))
        #expect(check(bytes, ttl: 64, unicast) == .accepted(sent))
        unicast.unicastPeerTTL = [src: TTLRange(min: 255)]
        #expect(check(bytes, ttl: 255, unicast) == .accepted(sent))
        #expect(check(bytes, ttl: 254, unicast) == .dropped(.badTTL))
        unicast.unicastPeerTTL = [src: TTLRange(min: 60, max: 64)]
        #expect(check(bytes, ttl: 63, unicast) == .accepted(sent))
        #expect(check(bytes, ttl: 255, unicast) == .dropped(.badTTL))
        #expect(check(bytes, ttl: 59, unicast) == .dropped(.badTTL))
        unicast.unicastPeerTTL = [src: TTLRange(min: 200, max: 100)]
        #expect(check(bytes, ttl: 150, unicast) == .dropped(.badTTL))
        var own = filter; own.ownAddresses = [src]
        #expect(check(bytes, own) == .dropped(.ownAdvert))
        // Random garbage never crashes.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<64, using: &rng)
            let junk = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = check(junk)
            _ = VRRPAdvertisement.decode(junk[...], family: Bool.random())
            _ = IPv4Header.parse(junk[...])
        }
    }
}
