import Testing
import Foundation

extension VRRPLabTests {
    /// fulcrum-vrrp against real keepalived peers in network namespaces, with the lab's
    /// example configs unchanged. One lab at a time, so the suite is serialized.
    @Suite struct FulcrumVRRPInteropTests {
        /// h1 runs fulcrum-vrrp at 112 against keepalived at 111 and 110: it wins, the client's
        /// ARP follows; killed, keepalived's h2 takes over; restarted, it preempts back; its
        /// track script fails and recovers; stopped, it sends priority 0 and h2 takes over in
        /// well under a second; every advert in the capture passes Wireshark's dissector.
        @Test(arguments: ["v2-mcast", "v3-mcast", "v2-unicast"])
        func fulcrumMasterAgainstKeepalivedBackups(scenario: String) throws {
            try VRRPLab.up(3)
            defer { VRRPLab.down() }
            let capture = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-\(scenario)-\(UUID().uuidString).pcap").path
            defer { try? FileManager.default.removeItem(atPath: capture) }
            #expect(VRRPLab.lab("capture", capture).status == 0)
            var t = VRRPLab.now()
            try VRRPLab.startFulcrum("h1", config: VRRPLab.example(scenario, "h1"))
            try VRRPLab.startKeepalived("h2", config: VRRPLab.example(scenario, "h2"))
            try VRRPLab.startKeepalived("h3", config: VRRPLab.example(scenario, "h3"))
            let first = try VRRPLab.waitOwner(host: "h1", since: t)
            print("\(scenario): fulcrum-vrrp h1 master after \(first.milliseconds) ms")
            #expect(VRRPLab.lab("who-owns", VRRPLab.vip).status == 0)

            // Crash: keepalived's h2 (111) takes over within Master_Down_Interval.
            Thread.sleep(forTimeInterval: 1.3)
            t = VRRPLab.now()
            t = VRRPLab.signalTime(VRRPLab.lab("kill", "h1"), fallback: t)
            let takeover = try VRRPLab.waitOwner(not: "h1", since: t)
            print("\(scenario): SIGKILL fulcrum-vrrp master -> \(takeover.host) after \(takeover.milliseconds) ms")
            #expect(takeover.host == "h2")
            #expect(takeover.milliseconds < 4500)

            // Restart (the stale VIP is removed first, as keepalived does): preempts back.
            t = VRRPLab.now()
            try VRRPLab.startFulcrum("h1", config: VRRPLab.example(scenario, "h1"))
            let back = try VRRPLab.waitOwner(host: "h1", since: t)
            print("\(scenario): restarted fulcrum-vrrp preempts after \(back.milliseconds) ms")
            #expect(back.milliseconds < 6000)
            Thread.sleep(forTimeInterval: 0.5)
            #expect(VRRPLab.lab("owner", VRRPLab.vip).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "h1")

            // Track script fails: 102 < 111, h2 takes over; recovers: h1 preempts back.
            t = VRRPLab.now()
            VRRPLab.lab("health", "h1", "fail")
            let tracked = try VRRPLab.waitOwner(not: "h1", since: t)
            print("\(scenario): track script fails on fulcrum-vrrp -> \(tracked.host) after \(tracked.milliseconds) ms")
            #expect(tracked.host == "h2")
            t = VRRPLab.now()
            VRRPLab.lab("health", "h1", "ok")
            let recovered = try VRRPLab.waitOwner(host: "h1", since: t)
            print("\(scenario): track script recovers -> h1 after \(recovered.milliseconds) ms")
            Thread.sleep(forTimeInterval: 1.5)

            // Graceful stop: priority 0, h2 waits Skew_Time only.
            t = VRRPLab.now()
            t = VRRPLab.signalTime(VRRPLab.lab("stop", "h1"), fallback: t)
            let graceful = try VRRPLab.waitOwner(not: "h1", since: t)
            print("\(scenario): SIGTERM fulcrum-vrrp -> \(graceful.host) after \(graceful.milliseconds) ms")
            #expect(graceful.host == "h2")
            #expect(graceful.milliseconds < 1000)
            #expect(graceful.alsoHeldBy == nil)
            Thread.sleep(forTimeInterval: 0.5)
            VRRPLab.lab("capture-stop")
            let decode = VRRPLab.lab("decode", capture)
            #expect(decode.status == 0, "\(decode.stdout)\(decode.stderr)")
            #expect(decode.stdout.contains("prio 0"), "no priority-0 advert from the SIGTERM: \(decode.stdout)")
        }

        /// keepalived's master dies and fulcrum-vrrp (h2, 111) takes over, with the client's
        /// ARP following, over five kills at random phases of the advert timer.
        @Test func fulcrumBackupTakesOverFromAKeepalivedMaster() throws {
            try VRRPLab.up(3)
            defer { VRRPLab.down() }
            try VRRPLab.startKeepalived("h1", config: VRRPLab.example("v2-mcast", "h1"))
            try VRRPLab.startFulcrum("h2", config: VRRPLab.example("v2-mcast", "h2"))
            try VRRPLab.startKeepalived("h3", config: VRRPLab.example("v2-mcast", "h3"))
            var times: [Int] = []
            for run in 1...5 {
                _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now(), timeout: 20)
                Thread.sleep(forTimeInterval: 1 + Double.random(in: 0..<1))
                let t = VRRPLab.signalTime(VRRPLab.lab("kill", "h1"), fallback: VRRPLab.now())
                let owner = try VRRPLab.waitOwner(not: "h1", since: t)
                #expect(owner.host == "h2", "run \(run): \(owner.host) took over")
                #expect(owner.milliseconds < 4500)
                times.append(owner.milliseconds)
                VRRPLab.lab("flush", "h1")
                try VRRPLab.startKeepalived("h1", config: VRRPLab.example("v2-mcast", "h1"))
            }
            print("keepalived master SIGKILL -> fulcrum-vrrp holds VIP, client ARP updated (ms): \(times), median \(VRRPLab.median(times))")
            #expect(VRRPLab.median(times) < 3700)
        }

        /// VRRPv3 over IPv6 (the lab's segment carries it; the hosts have link-local
        /// addresses): fulcrum-vrrp at 120 is master over keepalived at 110, its adverts
        /// pass Wireshark's checks, and keepalived takes over when it is killed.
        @Test func ipv6Version3AgainstKeepalived() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-v6-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            for (host, priority) in [("h1", 120), ("h2", 110)] {
                try """
                vrrp_instance VI_6 {
                    state BACKUP
                    interface eth0
                    version 3
                    virtual_router_id 48
                    priority \(priority)
                    advert_int 1
                    virtual_ipaddress {
                        2001:db8:99::50/64
                    }
                }
                """.write(to: dir.appendingPathComponent("\(host).conf"), atomically: true, encoding: .utf8)
            }
            try VRRPLab.up(2)
            defer { VRRPLab.down() }
            let capture = dir.appendingPathComponent("v6.pcap").path
            #expect(VRRPLab.lab("capture", capture).status == 0)
            // Link-local addresses leave the tentative state after duplicate address detection.
            Thread.sleep(forTimeInterval: 2.5)
            var t = VRRPLab.now()
            try VRRPLab.startFulcrum("h1", config: dir.appendingPathComponent("h1.conf").path)
            try VRRPLab.startKeepalived("h2", config: dir.appendingPathComponent("h2.conf").path)
            let first = try VRRPLab.waitOwner(host: "h1", arp: false, since: t, vip: "2001:db8:99::50")
            #expect(first.milliseconds < 5000)
            Thread.sleep(forTimeInterval: 1.5)
            t = VRRPLab.signalTime(VRRPLab.lab("kill", "h1"), fallback: VRRPLab.now())
            let takeover = try VRRPLab.waitOwner(not: "h1", arp: false, since: t, vip: "2001:db8:99::50")
            print("IPv6 v3: SIGKILL fulcrum-vrrp master -> \(takeover.host) after \(takeover.milliseconds) ms")
            #expect(takeover.host == "h2")
            Thread.sleep(forTimeInterval: 0.5)
            VRRPLab.lab("capture-stop")
            let decode = VRRPLab.lab("decode", capture)
            #expect(decode.status == 0, "\(decode.stdout)")
            #expect(decode.stdout.contains("VRRPv3 vrid 48 prio 120"), "\(decode.stdout)")
        }

        /// `nopreempt` on fulcrum-vrrp: after its track script recovers (112 > 111) it
        /// stays backup and keepalived's h2 keeps the VIP.
        @Test func nopreemptIsRespected() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-nopreempt-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let config = dir.appendingPathComponent("h1.conf").path
            let original = try String(contentsOfFile: VRRPLab.example("v2-mcast", "h1"), encoding: .utf8)
            try original.replacingOccurrences(of: "    state MASTER\n", with: "    state BACKUP\n    nopreempt\n")
                .write(toFile: config, atomically: true, encoding: .utf8)
            try VRRPLab.up(2)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: config)
            try VRRPLab.startKeepalived("h2", config: VRRPLab.example("v2-mcast", "h2"))
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())
            var t = VRRPLab.now()
            VRRPLab.lab("health", "h1", "fail")
            #expect(try VRRPLab.waitOwner(not: "h1", since: t).host == "h2")
            t = VRRPLab.now()
            VRRPLab.lab("health", "h1", "ok")
            // Longer than the script interval plus Master_Down_Interval: a preempting h1 would be back by now.
            Thread.sleep(forTimeInterval: 6)
            #expect(VRRPLab.lab("owner", VRRPLab.vip).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "h2")
            let log = (try? String(contentsOfFile: "/tmp/vrrp-lab/h1.log", encoding: .utf8)) ?? ""
            #expect(log.contains("effective priority 102 -> 112"), "\(log)")
        }

        /// Split brain with `vrrp_higher_prio_send_advert`: h1 (fulcrum-vrrp) is cut off,
        /// h2 becomes a second master; after the rejoin exactly one holder remains, h1, and
        /// the client's ARP ends on it (h2's parting advert makes h1 repeat its ARPs).
        @Test func splitBrainHealsToOneHolder() throws {
            try VRRPLab.up(3)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: VRRPLab.example("v2-mcast-garp-fix", "h1"))
            try VRRPLab.startKeepalived("h2", config: VRRPLab.example("v2-mcast-garp-fix", "h2"))
            try VRRPLab.startKeepalived("h3", config: VRRPLab.example("v2-mcast-garp-fix", "h3"))
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())
            var t = VRRPLab.now()
            VRRPLab.lab("isolate", "h1")
            let second = try VRRPLab.waitOwner(not: "h1", arp: false, since: t)
            #expect(second.host == "h2")
            #expect(second.alsoHeldBy == "also:h1")
            Thread.sleep(forTimeInterval: 1)
            t = VRRPLab.now()
            VRRPLab.lab("rejoin", "h1")
            let healed = try VRRPLab.waitOwner(host: "h1", since: t)
            print("split brain healed: h1 holds the VIP, client ARP on it after \(healed.milliseconds) ms")
            Thread.sleep(forTimeInterval: 2)
            let verdict = VRRPLab.lab("who-owns", VRRPLab.vip)
            #expect(verdict.status == 0, "\(verdict.stdout)")
        }
    }
}
