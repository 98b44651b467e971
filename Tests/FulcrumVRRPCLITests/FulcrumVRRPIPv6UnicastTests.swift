import Testing
import Foundation

extension VRRPLabTests {
    /// VRRPv3 over IPv6 unicast (`unicast_src_ip` / `unicast_peer` with global IPv6
    /// addresses) between fulcrum-vrrp and keepalived: adverts go to the peer's address
    /// only, with `unicast_ttl`'s hop limit, the new master announces the virtual address with unsolicited neighbour
    /// advertisements (override flag set), and keepalived takes over when it dies.
    @Suite struct FulcrumVRRPIPv6UnicastTests {
        static func tshark(_ file: String, _ filter: String, _ fields: [String]) -> [String] {
            let out = VRRPLab.run(["/usr/bin/tshark", "-n", "-r", file, "-Y", filter, "-T", "fields", "-E", "separator= "]
                + fields.flatMap { ["-e", $0] })
            return out.stdout.split(separator: "\n").map(String.init)
        }

        @Test func ipv6UnicastAndNeighbourAdvertisements() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-v6u-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let address = ["h1": "2001:db8:1::1", "h2": "2001:db8:1::2"]
            for (host, priority, peer) in [("h1", 120, "h2"), ("h2", 110, "h1")] {
                try """
                vrrp_instance VI_7 {
                    state BACKUP
                    interface eth0
                    version 3
                    virtual_router_id 49
                    priority \(priority)
                    advert_int 1
                    unicast_src_ip \(address[host]!)
                    \(host == "h1" ? "unicast_ttl 64" : "")
                    unicast_peer {
                        \(address[peer]!)
                    }
                    virtual_ipaddress {
                        2001:db8:99::51/64
                    }
                }
                """.write(to: dir.appendingPathComponent("\(host).conf"), atomically: true, encoding: .utf8)
            }
            try VRRPLab.up(2)
            defer { VRRPLab.down() }
            for host in ["h1", "h2"] {
                #expect(VRRPLab.lab("exec", host, "ip", "-6", "addr", "add", "\(address[host]!)/64", "dev", "eth0", "nodad").status == 0)
            }
            let capture = dir.appendingPathComponent("v6u.pcap").path
            let started = VRRPLab.run(["/usr/bin/env", "VLAB_CAPTURE_FILTER=ip6 proto 112 or icmp6", "/bin/bash", VRRPLab.script, "capture", capture])
            #expect(started.status == 0, "\(started.stderr)")
            // Link-local addresses leave the tentative state after duplicate address detection.
            Thread.sleep(forTimeInterval: 2.5)
            var t = VRRPLab.now()
            try VRRPLab.startFulcrum("h1", config: dir.appendingPathComponent("h1.conf").path)
            try VRRPLab.startKeepalived("h2", config: dir.appendingPathComponent("h2.conf").path)
            let first = try VRRPLab.waitOwner(host: "h1", arp: false, since: t, vip: "2001:db8:99::51")
            #expect(first.milliseconds < 5000)
            Thread.sleep(forTimeInterval: 2)
            t = VRRPLab.signalTime(VRRPLab.lab("kill", "h1"), fallback: VRRPLab.now())
            let takeover = try VRRPLab.waitOwner(not: "h1", arp: false, since: t, vip: "2001:db8:99::51")
            print("IPv6 unicast: SIGKILL fulcrum-vrrp master -> \(takeover.host) after \(takeover.milliseconds) ms")
            #expect(takeover.host == "h2")
            Thread.sleep(forTimeInterval: 0.5)
            VRRPLab.lab("capture-stop")

            // Adverts: from h1's unicast address to h2's only, VRRPv3, priority 120, with
            // the hop limit `unicast_ttl` asks for.
            let adverts = Self.tshark(capture, "vrrp && vrrp.prio == 120", ["ipv6.src", "ipv6.dst", "vrrp.version", "ipv6.hlim"])
            #expect(!adverts.isEmpty, "fulcrum-vrrp sent adverts")
            #expect(adverts.allSatisfy { $0 == "2001:db8:1::1 2001:db8:1::2 3 64" }, "\(Set(adverts))")
            // Unsolicited neighbour advertisements for the virtual address from h1, then h2.
            let na = Self.tshark(capture, "icmpv6.type == 136 && icmpv6.nd.na.target_address == 2001:db8:99::51",
                                 ["eth.src", "icmpv6.nd.na.flag.o", "ipv6.dst"])
            let macs = VRRPLab.lab("exec", "h1", "cat", "/sys/class/net/eth0/address").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let fromFulcrum = na.filter { $0.hasPrefix(macs + " ") }
            #expect(fromFulcrum.count >= 1, "fulcrum-vrrp announced the address: \(na)")
            #expect(fromFulcrum.allSatisfy { $0.split(separator: " ").dropFirst().first.map { $0 == "1" || $0 == "True" } ?? false }, "override flag: \(fromFulcrum)")
            #expect(na.count > fromFulcrum.count, "keepalived announced it after taking over: \(na)")
        }
    }
}
