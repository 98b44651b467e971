import Testing
import KeepalivedConfig
@testable import VRRPDaemon

@Suite struct DaemonPartsTests {
    @Test func scriptWordsAsKeepalivedSplitsThem() {
        #expect(ChildProcess.words("/usr/bin/test -f /tmp/vrrp-lab/health/h1") == ["/usr/bin/test", "-f", "/tmp/vrrp-lab/health/h1"])
        #expect(ChildProcess.words("/bin/sh -c 'kill -0 $(cat /run/fulcrum.pid)'") == ["/bin/sh", "-c", "kill -0 $(cat /run/fulcrum.pid)"])
        #expect(ChildProcess.words("a \"b c\" d\\ e  ") == ["a", "b c", "d e"])
        #expect(ChildProcess.words("") == [])
    }

    /// The bytes `ip monitor` shows for `ip addr add 10.99.0.50/32 dev eth0` (index 2).
    @Test func rtnetlinkAddressMessage() {
        var vip = VirtualAddress(address: IPAddress("10.99.0.50")!)
        let add = RouteNetlink.addressMessage(add: true, address: vip, interfaceIndex: 2, sequence: 7)
        #expect(add == [40, 0, 0, 0, 20, 0, 0x05, 0x05, 7, 0, 0, 0, 0, 0, 0, 0,
                        2, 32, 0, 0, 2, 0, 0, 0,
                        8, 0, 2, 0, 10, 99, 0, 50,
                        8, 0, 1, 0, 10, 99, 0, 50])
        vip.prefixLength = 24
        vip.broadcast = IPAddress("10.99.0.255")
        vip.label = "eth0:1"
        vip.scope = .link
        let del = RouteNetlink.addressMessage(add: false, address: vip, interfaceIndex: 3, sequence: 8)
        #expect(del[4] == 21 && del[6] == 0x05 && del[7] == 0x00)
        #expect(Array(del[16..<24]) == [2, 24, 0, 253, 3, 0, 0, 0])
        #expect(Array(del[40..<48]) == [8, 0, 4, 0, 10, 99, 0, 255])
        #expect(Array(del[48..<60]) == [11, 0, 3, 0] + Array("eth0:1".utf8) + [0, 0])
        #expect(Int(del[0]) == del.count)
    }

    @Test func unsolicitedNeighbourAdvert() {
        let m = NeighbourAdvertSender.message(target: IPAddress("2001:db8::50")!, mac: [2, 0, 0x0a, 0x63, 0, 0x0b])
        #expect(m.count == 32)
        #expect(Array(m.prefix(5)) == [136, 0, 0, 0, 0x20])
        #expect(Array(m.suffix(8)) == [2, 1, 2, 0, 0x0a, 0x63, 0, 0x0b])
    }

    @Test func trackScriptRiseAndFall() {
        var def = TrackScriptDefinition(name: "chk", location: SourceLocation(file: "k", line: 1))
        def.script = "/bin/true"
        def.rise = 2
        def.fall = 3
        let r = TrackScriptRunner(definition: def, now: .seconds(0))
        #expect(r.up)
        let failed: Int32 = 1 << 8
        #expect(!r.finished(status: failed) && !r.finished(status: failed))
        #expect(r.finished(status: failed) && !r.up)
        #expect(!r.finished(status: 0))
        #expect(r.finished(status: 0) && r.up)
        // A script killed at its timeout counts as a failure whatever its status.
        r.timedOut = true
        #expect(!r.finished(status: 9))
    }
}

@Suite struct DetachedInstanceTests {
    /// An instance whose interface does not exist is built detached (no sockets), not
    /// refused; the daemon keeps it in FAULT and attaches it when the interface appears.
    @Test func missingInterfaceLeavesTheInstanceDetached() throws {
        var config = VRRPInstanceConfig(name: "VI_LATE", location: SourceLocation(file: "k.conf", line: 1))
        config.interface = "fvrrp-none0"
        config.virtualRouterID = 48
        config.virtualAddresses = [VirtualAddress(address: IPAddress("10.98.0.50")!)]
        let runtime = try InstanceRuntime(config: config, global: GlobalDefinitions(), groupScripts: [])
        #expect(runtime.link == nil)
        #expect(runtime.socket == nil)
        #expect(runtime.source == IPAddress(v4: 0, 0, 0, 0))
        #expect(runtime.interfaceIndex(for: config.virtualAddresses[0]) == nil)
        #expect(try runtime.attach() == "interface fvrrp-none0 for vrrp_instance VI_LATE doesn't exist")
    }
}
