import Testing
import Foundation

extension VRRPLabTests {
    /// Bad input, hung scripts, notify scripts and carrier loss, with fulcrum-vrrp on h1 and
    /// keepalived on h2 and h3.
    @Suite struct FulcrumVRRPRobustnessTests {
        static let sender = VRRPLab.labDirectory.appendingPathComponent("send_bad_adverts.py").path

        func stats() throws -> [String: Int] {
            let path = "/tmp/keepalived.stats"
            try? FileManager.default.removeItem(atPath: path)
            VRRPLab.lab("kill", "h1", "USR2")
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: path) { Thread.sleep(forTimeInterval: 0.02) }
            Thread.sleep(forTimeInterval: 0.1)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            var out: [String: Int] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) {
                    out[parts[0].trimmingCharacters(in: .whitespaces)] = n
                }
            }
            return out
        }

        /// Nine kinds of bad packet at priority 200 from the client: all dropped and counted,
        /// h1 stays master, nothing flaps.
        @Test func badPacketsAreDroppedAndCounted() throws {
            try VRRPLab.up(3)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: VRRPLab.example("v2-mcast", "h1"))
            try VRRPLab.startKeepalived("h2", config: VRRPLab.example("v2-mcast", "h2"))
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())
            let sent = VRRPLab.lab("exec", "client", "/usr/bin/python3", Self.sender, "224.0.0.18", "3")
            #expect(sent.status == 0, "\(sent.stderr)")
            Thread.sleep(forTimeInterval: 0.5)
            let s = try stats()
            for key in ["TTL/hop limit not 255", "bad checksum", "advert interval mismatch", "packet too short",
                        "packet longer than its address count", "wrong version", "invalid type", "authentication type mismatch", "Other virtual routers"] {
                #expect(s[key] == 3, "\(key): \(s[key] ?? -1)")
            }
            #expect(s["Released master"] == 0)
            #expect(s["Became master"] == 1)
            Thread.sleep(forTimeInterval: 1)
            #expect(VRRPLab.lab("owner", VRRPLab.vip).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "h1")
            #expect(VRRPLab.lab("who-owns", VRRPLab.vip).status == 0)
        }

        /// With unicast peers, a well-formed higher-priority advert from an address that is
        /// not a peer is dropped.
        @Test func unicastAdvertFromAStrangerIsDropped() throws {
            try VRRPLab.up(3)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: VRRPLab.example("v2-unicast", "h1"))
            try VRRPLab.startKeepalived("h2", config: VRRPLab.example("v2-unicast", "h2"))
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())
            let sent = VRRPLab.lab("exec", "client", "/usr/bin/python3", Self.sender, "10.99.0.11", "2")
            #expect(sent.status == 0, "\(sent.stderr)")
            Thread.sleep(forTimeInterval: 0.5)
            let s = try stats()
            #expect(s["source not in unicast_peer"] == 18)
            #expect(s["Released master"] == 0)
            #expect(VRRPLab.lab("owner", VRRPLab.vip).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "h1")
        }

        /// A track script that hangs is killed at its timeout and counts as failed; notify
        /// scripts get keepalived's arguments; carrier loss puts the instance in FAULT.
        @Test func hungScriptNotifyAndCarrierLoss() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-lab-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let notifyLog = dir.appendingPathComponent("notify.log").path
            let notify = dir.appendingPathComponent("notify.sh").path
            try "#!/bin/sh\necho \"$@\" >> \(notifyLog)\n".write(toFile: notify, atomically: true, encoding: .utf8)
            chmod(notify, 0o755)
            let hangFlag = dir.appendingPathComponent("hang").path
            let config = dir.appendingPathComponent("h1.conf").path
            try """
            vrrp_script chk_hang {
                script "/bin/sh -c 'test -f \(hangFlag) && exec /bin/sleep 30; exit 0'"
                interval 1
                timeout 1
                weight -60
            }
            vrrp_instance VI_47 {
                state MASTER
                interface eth0
                virtual_router_id 47
                priority 150
                advert_int 1
                virtual_ipaddress {
                    10.99.0.50
                }
                track_script {
                    chk_hang
                }
                notify "\(notify)"
                notify_master "\(notify) became-master"
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)

            try VRRPLab.up(3)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: config)
            try VRRPLab.startKeepalived("h2", config: VRRPLab.example("v2-mcast", "h2"))
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())

            // The script starts hanging: killed after 1 s, failed, 150 - 60 = 90 < 111.
            var t = VRRPLab.now()
            _ = FileManager.default.createFile(atPath: hangFlag, contents: nil)
            let moved = try VRRPLab.waitOwner(not: "h1", since: t)
            #expect(moved.host == "h2")
            let log = (try? String(contentsOfFile: "/tmp/vrrp-lab/h1.log", encoding: .utf8)) ?? ""
            #expect(log.contains("VRRP_Script(chk_hang) failed (timed out)"), "\(log)")
            let sleepers = VRRPLab.run(["/usr/bin/pgrep", "-f", "/bin/sleep 30"]).stdout.split(separator: "\n")
            #expect(sleepers.count <= 1, "hung scripts are not killed: \(sleepers)")
            try? FileManager.default.removeItem(atPath: hangFlag)
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())

            // Carrier loss: FAULT at once (rtnetlink event), h2 takes over; carrier back: h1 preempts.
            t = VRRPLab.now()
            VRRPLab.lab("link-down", "h1")
            let fault = try VRRPLab.waitOwner(not: "h1", arp: false, since: t)
            print("carrier loss on fulcrum-vrrp master -> \(fault.host) after \(fault.milliseconds) ms")
            #expect(fault.host == "h2")
            #expect(fault.alsoHeldBy == nil, "h1 kept the VIP in FAULT")
            VRRPLab.lab("link-up", "h1")
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())
            VRRPLab.lab("stop", "h1")
            Thread.sleep(forTimeInterval: 0.3)

            let lines = ((try? String(contentsOfFile: notifyLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            #expect(Array(lines.prefix(3)) == ["INSTANCE VI_47 BACKUP 150", "became-master", "INSTANCE VI_47 MASTER 150"] ||
                    Array(lines.prefix(3)) == ["INSTANCE VI_47 BACKUP 150", "INSTANCE VI_47 MASTER 150", "became-master"], "\(lines)")
            #expect(lines.contains("INSTANCE VI_47 BACKUP 90"))
            #expect(lines.contains("INSTANCE VI_47 FAULT 150"))
            #expect(lines.last == "INSTANCE VI_47 STOP 150")
        }

        /// A sync group of two instances: one member's track script fails (no weight, so
        /// FAULT) and both virtual addresses move to keepalived, together; the group's
        /// notify script reports it.
        @Test func syncGroupMovesTogether() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-sync-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let flag = dir.appendingPathComponent("ok").path
            _ = FileManager.default.createFile(atPath: flag, contents: nil)
            let notifyLog = dir.appendingPathComponent("notify.log").path
            let notify = dir.appendingPathComponent("notify.sh").path
            try "#!/bin/sh\necho \"$@\" >> \(notifyLog)\n".write(toFile: notify, atomically: true, encoding: .utf8)
            chmod(notify, 0o755)
            func config(priority: Int, fulcrum: Bool) -> String {
                """
                global_defs {
                    script_user root
                    enable_script_security
                }
                vrrp_script chk_b {
                    script "\(fulcrum ? "/usr/bin/test -f " + flag : "/bin/true")"
                    interval 1
                }
                vrrp_sync_group G {
                    group {
                        VI_A
                        VI_B
                    }
                    \(fulcrum ? "notify \"\(notify)\"" : "")
                }
                vrrp_instance VI_A {
                    interface eth0
                    virtual_router_id 47
                    priority \(priority)
                    advert_int 1
                    virtual_ipaddress {
                        10.99.0.50
                    }
                }
                vrrp_instance VI_B {
                    interface eth0
                    virtual_router_id 49
                    priority \(priority)
                    advert_int 1
                    virtual_ipaddress {
                        10.99.0.51
                    }
                    track_script {
                        chk_b
                    }
                }
                """
            }
            try config(priority: 150, fulcrum: true).write(to: dir.appendingPathComponent("h1.conf"), atomically: true, encoding: .utf8)
            try config(priority: 100, fulcrum: false).write(to: dir.appendingPathComponent("h2.conf"), atomically: true, encoding: .utf8)
            try VRRPLab.up(2)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: dir.appendingPathComponent("h1.conf").path)
            try VRRPLab.startKeepalived("h2", config: dir.appendingPathComponent("h2.conf").path)
            _ = try VRRPLab.waitOwner(host: "h1", arp: false, since: VRRPLab.now())
            _ = try VRRPLab.waitOwner(host: "h1", arp: false, since: VRRPLab.now(), vip: "10.99.0.51")
            let t = VRRPLab.now()
            try FileManager.default.removeItem(atPath: flag)
            let a = try VRRPLab.waitOwner(not: "h1", arp: false, since: t)
            let b = try VRRPLab.waitOwner(not: "h1", arp: false, since: t, vip: "10.99.0.51")
            print("sync group: member fault -> both VIPs on \(a.host)/\(b.host) after \(a.milliseconds)/\(b.milliseconds) ms")
            #expect(a.host == "h2" && b.host == "h2")
            #expect(a.alsoHeldBy == nil && b.alsoHeldBy == nil)
            Thread.sleep(forTimeInterval: 0.3)
            let lines = ((try? String(contentsOfFile: notifyLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            #expect(lines.contains("GROUP G MASTER 0") && lines.contains("GROUP G FAULT 0"), "\(lines)")
        }

        /// `vrrp_garp_interval` spaces the gratuitous ARPs of a burst; `garp_master_repeat`
        /// sets their number (as seen on the wire by Wireshark).
        @Test func gratuitousARPSpacing() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-garp-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let config = dir.appendingPathComponent("h1.conf").path
            try """
            global_defs {
                vrrp_garp_interval 0.2
                vrrp_garp_master_delay 0
            }
            vrrp_instance VI_47 {
                interface eth0
                virtual_router_id 47
                priority 255
                advert_int 1
                garp_master_repeat 3
                virtual_ipaddress {
                    10.99.0.50
                }
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
            try VRRPLab.up(1)
            defer { VRRPLab.down() }
            let capture = dir.appendingPathComponent("garp.pcap").path
            #expect(VRRPLab.lab("capture", capture).status == 0)
            try VRRPLab.startFulcrum("h1", config: config)
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())
            Thread.sleep(forTimeInterval: 1.5)
            VRRPLab.lab("capture-stop")
            let decode = VRRPLab.lab("decode", capture)
            #expect(decode.status == 0, "\(decode.stdout)")
            let times = decode.stdout.split(separator: "\n").filter { $0.contains("(h1) request for 10.99.0.50") }
                .compactMap { Double($0.split(separator: " ").first ?? "") }
            #expect(times.count == 3, "\(decode.stdout)")
            for (a, b) in zip(times, times.dropFirst()) { #expect(b - a > 0.15 && b - a < 0.4, "\(times)") }
        }

        /// SIGHUP reloads in place: a new priority moves the VIP without a restart (no
        /// priority-0, no STOP), a broken file is refused and the running config kept,
        /// an added address appears on the master.
        @Test func reloadOnSIGHUP() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-reload-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let config = dir.appendingPathComponent("h1.conf").path
            let original = try String(contentsOfFile: VRRPLab.example("v2-mcast", "h1"), encoding: .utf8)
            try original.write(toFile: config, atomically: true, encoding: .utf8)
            try VRRPLab.up(3)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: config)
            try VRRPLab.startKeepalived("h2", config: VRRPLab.example("v2-mcast", "h2"))
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())

            // 95 + 10 = 105 < 111: h2 takes over after its Master_Down_Interval.
            try original.replacingOccurrences(of: "priority 102", with: "priority 95").write(toFile: config, atomically: true, encoding: .utf8)
            var t = VRRPLab.signalTime(VRRPLab.lab("kill", "h1", "HUP"), fallback: VRRPLab.now())
            let moved = try VRRPLab.waitOwner(not: "h1", since: t)
            print("reload with a lower priority -> \(moved.host) after \(moved.milliseconds) ms")
            #expect(moved.host == "h2")

            // A broken file is refused; the daemon keeps running.
            try "vrrp_instance VI_47 {\n".write(toFile: config, atomically: true, encoding: .utf8)
            VRRPLab.lab("kill", "h1", "HUP")
            Thread.sleep(forTimeInterval: 0.5)

            // Back to 102 with a second address: h1 preempts back and holds both.
            try original.replacingOccurrences(of: "        10.99.0.50\n", with: "        10.99.0.50\n        10.99.0.52\n").write(toFile: config, atomically: true, encoding: .utf8)
            t = VRRPLab.signalTime(VRRPLab.lab("kill", "h1", "HUP"), fallback: VRRPLab.now())
            _ = try VRRPLab.waitOwner(host: "h1", since: t)
            _ = try VRRPLab.waitOwner(host: "h1", arp: false, since: t, vip: "10.99.0.52")
            let log = (try? String(contentsOfFile: "/tmp/vrrp-lab/h1.log", encoding: .utf8)) ?? ""
            #expect(log.contains("(VI_47) reloaded in place"))
            #expect(log.contains("reload: the configuration has errors; keeping the running one"))
            #expect(!log.contains("Entering STOP STATE"), "\(log)")
        }

        /// `track_process` watches the local service by name (no `killall -0` script):
        /// when it dies the instance goes to FAULT and the VIP moves; `track_file`'s number
        /// times its weight moves the priority.
        @Test func trackProcessAndTrackFile() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-track-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            // A process with a name of its own: a copy of sleep.
            let service = dir.appendingPathComponent("fvrrp-svc").path
            try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: service)
            let file = dir.appendingPathComponent("weight").path
            try "0\n".write(toFile: file, atomically: true, encoding: .utf8)
            let config = dir.appendingPathComponent("h1.conf").path
            try """
            vrrp_track_process svc {
                process fvrrp-svc
            }
            vrrp_track_file level {
                file \(file)
                weight -1
            }
            vrrp_instance VI_47 {
                interface eth0
                virtual_router_id 47
                priority 150
                advert_int 1
                virtual_ipaddress {
                    10.99.0.50
                }
                track_process {
                    svc
                }
                track_file {
                    level
                }
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
            try VRRPLab.up(2)
            defer { VRRPLab.down() }
            VRRPLab.run(["/bin/bash", "-c", "\(service) 300 >/dev/null 2>&1 & echo $! > \(dir.path)/svc.pid"])
            defer { if let pid = Int32((try? String(contentsOfFile: "\(dir.path)/svc.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") { kill(pid, SIGKILL) } }
            try VRRPLab.startFulcrum("h1", config: config)
            try VRRPLab.startKeepalived("h2", config: VRRPLab.example("v2-mcast", "h2"))
            _ = try VRRPLab.waitOwner(host: "h1", since: VRRPLab.now())

            // 150 - 60 = 90 < 111.
            var t = VRRPLab.now()
            try "60\n".write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try VRRPLab.waitOwner(not: "h1", since: t).host == "h2")
            t = VRRPLab.now()
            try "0\n".write(toFile: file, atomically: true, encoding: .utf8)
            _ = try VRRPLab.waitOwner(host: "h1", since: t)

            // The service dies: FAULT as the kernel reports the exit, priority 0, h2 after
            // its Skew_Time.
            Thread.sleep(forTimeInterval: 1)
            t = VRRPLab.now()
            VRRPLab.run(["/bin/bash", "-c", "kill -9 $(cat \(dir.path)/svc.pid)"])
            let moved = try VRRPLab.waitOwner(not: "h1", since: t)
            print("track_process: service killed -> \(moved.host) after \(moved.milliseconds) ms")
            #expect(moved.host == "h2")
            #expect(moved.milliseconds < 2000)
            #expect(moved.alsoHeldBy == nil)
        }
    }
}
