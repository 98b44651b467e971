import Testing
import Foundation

extension VRRPLabTests {
    /// `track_process` on the kernel's process events: fulcrum-vrrp alone on h1 (the
    /// address owner), a service with a name of its own started and killed by the test,
    /// and a notify script writing `$EPOCHREALTIME` at each state change.
    @Suite struct FulcrumVRRPTrackProcessTests {
        final class Lab {
            let dir: URL
            let service: String
            let notifyLog: String
            var services: [pid_t] = []

            init() throws {
                dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-proc-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                // A copy of sleep: its process name is the file's.
                service = dir.appendingPathComponent("fvrrp-svc").path
                try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: service)
                notifyLog = dir.appendingPathComponent("notify.log").path
            }

            deinit {
                for pid in services { kill(pid, SIGKILL) }
                try? FileManager.default.removeItem(at: dir)
            }

            /// fulcrum-vrrp on h1 with `options` in the vrrp_track_process block.
            func start(_ options: String = "") throws {
                let notify = dir.appendingPathComponent("notify.sh").path
                try "#!/bin/bash\necho \"$EPOCHREALTIME $3\" >> \(notifyLog)\n".write(toFile: notify, atomically: true, encoding: .utf8)
                chmod(notify, 0o755)
                let config = dir.appendingPathComponent("h1.conf").path
                try """
                vrrp_track_process svc {
                    process fvrrp-svc
                    \(options)
                }
                vrrp_instance VI_47 {
                    interface eth0
                    virtual_router_id 47
                    priority 255
                    advert_int 1
                    virtual_ipaddress {
                        10.99.0.50
                    }
                    track_process {
                        svc
                    }
                    notify "\(notify)"
                }
                """.write(toFile: config, atomically: true, encoding: .utf8)
                try VRRPLab.up(1)
                try VRRPLab.startFulcrum("h1", config: config)
            }

            func startService() throws -> pid_t {
                let r = VRRPLab.run(["/bin/bash", "-c", "\(service) 300 >/dev/null 2>&1 & echo $!"])
                guard let pid = pid_t(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw LabError("service: \(r.stderr)") }
                services.append(pid)
                return pid
            }

            /// The notify lines so far: time and state.
            func states() -> [(time: Double, state: String)] {
                ((try? String(contentsOfFile: notifyLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
                    let words = line.split(separator: " ")
                    guard words.count == 2, let t = Double(words[0]) else { return nil }
                    return (t, String(words[1]))
                }
            }

            /// The time of the first `state` line after the first `after` lines.
            func wait(for state: String, after: Int, timeout: Double = 5) -> Double? {
                let end = Date().addingTimeInterval(timeout)
                while Date() < end {
                    if let hit = states().dropFirst(after).first(where: { $0.state == state }) { return hit.time }
                    Thread.sleep(forTimeInterval: 0.005)
                }
                return nil
            }

            static func realtime() -> Double {
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
            }

            /// SIGKILL now; the time it was sent.
            func killService(_ pid: pid_t) -> Double {
                let t = Self.realtime()
                kill(pid, SIGKILL)
                return t
            }
        }

        /// Killing the tracked service puts the instance in FAULT as the kernel reports the
        /// exit, not at the next scan of /proc (250 ms apart): five kills, each measured
        /// from the kill(2) to the FAULT notify script's timestamp (which includes
        /// starting the script).
        @Test func killedServiceFaultsAtOnce() throws {
            let lab = try Lab()
            defer { VRRPLab.down() }
            var pid = try lab.startService()
            try lab.start()
            #expect(lab.wait(for: "MASTER", after: 0) != nil, "\(VRRPLab.logs())")
            let log = (try? String(contentsOfFile: "/tmp/vrrp-lab/h1.log", encoding: .utf8)) ?? ""
            #expect(log.contains("Process tracking: kernel process events"), "\(log)")

            // The data dump shows the count and the mode.
            try? FileManager.default.removeItem(atPath: "/tmp/keepalived.data")
            VRRPLab.lab("kill", "h1", "USR1")
            for _ in 0..<100 where !FileManager.default.fileExists(atPath: "/tmp/keepalived.data") { Thread.sleep(forTimeInterval: 0.02) }
            Thread.sleep(forTimeInterval: 0.1)
            let dump = (try? String(contentsOfFile: "/tmp/keepalived.data", encoding: .utf8)) ?? ""
            #expect(dump.contains("Tracked process = svc UP") && dump.contains("Current processes = 1"), "\(dump)")

            var latencies: [Int] = []
            for _ in 0..<5 {
                let before = lab.states().count
                let killed = lab.killService(pid)
                guard let fault = lab.wait(for: "FAULT", after: before) else {
                    Issue.record("no FAULT after the kill: \(lab.states())\n\(VRRPLab.logs())")
                    return
                }
                latencies.append(Int(((fault - killed) * 1000).rounded()))
                let down = lab.states().count
                pid = try lab.startService()
                #expect(lab.wait(for: "MASTER", after: down) != nil, "\(lab.states())")
            }
            let median = VRRPLab.median(latencies)
            print("track_process: kill -> FAULT notify in \(latencies.map { "\($0)" }.joined(separator: ", ")) ms (median \(median) ms)")
            #expect(median < 50, "\(latencies)")
            #expect(latencies.allSatisfy { $0 < 250 }, "\(latencies)")
            let after = (try? String(contentsOfFile: "/tmp/vrrp-lab/h1.log", encoding: .utf8)) ?? ""
            #expect(!after.contains("scanning /proc"), "\(after)")
        }

        /// `terminate_delay`: a death is acted on after the delay, and a restart within it
        /// is not seen at all.
        @Test func terminateDelayRidesOutARestart() throws {
            let lab = try Lab()
            defer { VRRPLab.down() }
            var pid = try lab.startService()
            try lab.start("terminate_delay 0.6")
            #expect(lab.wait(for: "MASTER", after: 0) != nil, "\(VRRPLab.logs())")

            var before = lab.states().count
            let killed = lab.killService(pid)
            let fault = try #require(lab.wait(for: "FAULT", after: before))
            let ms = Int(((fault - killed) * 1000).rounded())
            print("track_process: terminate_delay 0.6 s, kill -> FAULT notify in \(ms) ms")
            #expect(ms >= 600 && ms < 900)

            before = lab.states().count
            pid = try lab.startService()
            _ = try #require(lab.wait(for: "MASTER", after: before))
            before = lab.states().count
            _ = lab.killService(pid)
            pid = try lab.startService()
            Thread.sleep(forTimeInterval: 1.2)
            #expect(lab.states().count == before, "a restart within terminate_delay was seen: \(lab.states().dropFirst(before))")
        }
    }
}
