import Foundation
import Testing

/// Health checks on the real binary against real backends: a server that dies under
/// load leaves the rotation within `inter × fall` with no failed request, comes back
/// after `rise` checks; HTTP checks follow a health endpoint; tcp-check scripts judge
/// what a server says; broken servers end each check with the right reason and leak
/// nothing. The state changes are logged in HAProxy's words.
@Suite(.serialized) struct HealthCheckIntegrationTests {
    let http = HTTPProxyTests()

    static func log(_ file: URL) -> String {
        (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    func startFulcrum(_ running: RunningProcesses, _ config: String, waitFor port: Int) throws -> (pid: Int32, log: URL) {
        let file = try FulcrumProcess.temporaryFile(config)
        let log = file.deletingLastPathComponent().appendingPathComponent("stderr-\(UUID().uuidString).log")
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", file.path], stderr: log)
        try running.waitForListener(port)
        return (running.processes.last!.processIdentifier, log)
    }

    @Test func deadServerLeavesTheRotationAndComesBack() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a", "b", "c"])
        let victim = running.processes[1]
        let front = Loopback.freePort()
        let (_, log) = try startFulcrum(running, HTTPProxyTests.httpDefaults(extra: "    retries 3\n    option redispatch\n")
            + "backend web\n  server a 127.0.0.1:\(ports[0]) check inter 200ms fall 2 rise 2\n"
            + "  server b 127.0.0.1:\(ports[1]) check inter 200ms fall 2 rise 2\n  server c 127.0.0.1:\(ports[2]) check inter 200ms fall 2 rise 2\n"
            + "frontend f\n  bind 127.0.0.1:\(front)\n  default_backend web\n", waitFor: front)

        func spread(_ n: Int) throws -> [String: Int] {
            var seen: [String: Int] = [:]
            for _ in 0..<n {
                let response = try HTTPTestConnection.get(front, "/echo")
                seen[response.map { $0.status == 200 ? HTTPProxyTests.backendName($0) : "status \($0.status)" } ?? "no answer", default: 0] += 1
            }
            return seen
        }
        #expect(try spread(30) == ["a": 10, "b": 10, "c": 10])

        victim.terminate()
        victim.waitUntilExit()
        let killed = Date()
        // Steady load through the failure window: nothing fails (retried elsewhere).
        var during: [String: Int] = [:]
        while Date().timeIntervalSince(killed) < 1.0 {
            for (k, v) in try spread(5) { during[k, default: 0] += v }
        }
        #expect(during.keys.allSatisfy { $0 == "a" || $0 == "c" }, "every request succeeded elsewhere: \(during)")
        #expect(Self.waitFor(2) { Self.log(log).contains("Server web/b is DOWN, reason: Layer4 connection problem, info: \"Connection refused\"") },
                "\(Self.log(log))")
        #expect(Self.log(log).contains("2 active and 0 backup servers left."))
        #expect(try spread(20) == ["a": 10, "c": 10], "b is out of the rotation")

        // Back on the same port: UP after `rise` passed checks.
        try running.start("/usr/bin/env", ["python3", HTTPProxyTests.backendScript, "b", "127.0.0.1", String(ports[1])])
        try running.waitForListener(ports[1])
        #expect(Self.waitFor(3) { Self.log(log).contains("Server web/b is UP, reason: Layer4 check passed") }, "\(Self.log(log))")
        #expect(Self.log(log).contains("3 active and 0 backup servers online."))
        #expect(try spread(30) == ["a": 10, "b": 10, "c": 10])
    }

    @Test func httpCheckFollowsTheHealthEndpointAndBackupsTakeOver() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["main", "spare"])
        let front = Loopback.freePort()
        let (_, log) = try startFulcrum(running, HTTPProxyTests.httpDefaults(extra: "    timeout check 500ms\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  option httpchk GET /health\n  http-check expect status 200\n"
            + "  server main 127.0.0.1:\(ports[0]) check inter 100ms fall 1 rise 2\n  server spare 127.0.0.1:\(ports[1]) check inter 100ms backup\n", waitFor: front)
        #expect(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/echo")) == "main")
        // Flip main's health endpoint to 503 (directly on the backend).
        #expect(try HTTPTestConnection.get(ports[0], "/set-health?code=503")?.status == 200)
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/main is DOWN, reason: Layer7 wrong status, code: 503, info: \"Unhealthy\"") }, "\(Self.log(log))")
        #expect(Self.log(log).contains("0 active and 1 backup servers left. Running on backup."))
        #expect(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/echo")) == "spare", "the backup serves while main is down")
        #expect(try HTTPTestConnection.get(ports[0], "/set-health?code=200")?.status == 200)
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/main is UP, reason: Layer7 check passed, code: 200") }, "\(Self.log(log))")
        #expect(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/echo")) == "main")
    }

    @Test func tcpCheckScriptsJudgeWhatTheServerSays() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let tcp = TCPProxyTests()
        let ports = try tcp.startBackends(running, names: ["pong", "other"])
        let front = Loopback.freePort()
        let (_, log) = try startFulcrum(running, TCPProxyTests.tcpDefaults(extra: "    timeout check 500ms\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  option tcp-check\n  tcp-check send hello\\r\\n\n  tcp-check expect string pong\n"
            + "  server right 127.0.0.1:\(ports[0]) check inter 100ms fall 1\n  server wrong 127.0.0.1:\(ports[1]) check inter 100ms fall 1\n", waitFor: front)
        // It greets with another name and then echoes: the match never comes, as HAProxy
        // says, at `timeout check`.
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/wrong is DOWN, reason: Layer7 timeout, info: \" at step 2 of tcp-check (expect string 'pong')\"") }, "\(Self.log(log))")
        usleep(300_000)
        #expect(!Self.log(log).contains("Server l/right is DOWN"), "the server that greets with 'pong' passes")
    }

    /// A server that accepts and never answers, one that answers garbage, one that
    /// resets: each check ends at `timeout check` (or at once) with its reason, and a
    /// thousand failed checks leave the descriptor count where it was.
    @Test func brokenServersFailWithTheirReasonAndLeakNothing() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let silent = try ScriptedBackend()
        let ports = try http.startBackends(running, ["g"])
        let closed = Loopback.freePort()
        let front = Loopback.freePort()
        let (pid, log) = try startFulcrum(running, HTTPProxyTests.httpDefaults(extra: "    timeout check 300ms\n")
            + "listen l\n  bind 127.0.0.1:\(front)\n  option httpchk GET /garbage\n"
            + "  server silent 127.0.0.1:\(silent.port) check inter 50ms fall 1\n"
            + "  server garbage 127.0.0.1:\(ports[0]) check inter 10ms fall 1\n"
            + "  server refused 127.0.0.1:\(closed) check inter 10ms fall 1\n", waitFor: front)
        #expect(Self.waitFor(3) {
            let text = Self.log(log)
            return text.contains("Server l/silent is DOWN, reason: Layer7 timeout, check duration: 3")
                && text.contains("Server l/garbage is DOWN, reason: Layer7 invalid response")
                && text.contains("Server l/refused is DOWN, reason: Layer4 connection problem, info: \"Connection refused\"")
        }, "\(Self.log(log))")
        #expect(Self.log(log).contains("proxy 'l' has no server available!"))
        func descriptors() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }
        usleep(500_000)
        let before = descriptors()
        // About 100 failed checks a second on each of two servers for 5 s.
        sleep(5)
        let after = descriptors()
        #expect(before > 0 && after <= before + 4, "descriptors: \(before) then \(after) after ~1000 failed checks")
    }
}

extension HealthCheckIntegrationTests {
    /// An agent drives the server: half weight, drain, down, up, maintenance, ready.
    @Test func agentCheckDrivesWeightAndState() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a", "b"])
        let agentPort = Loopback.freePort()
        let said = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)")
        func say(_ text: String) throws { try text.write(to: said, atomically: true, encoding: .utf8) }
        try say("up")
        try running.start("/usr/bin/env", ["python3", FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/agent.py").path, String(agentPort), said.path])
        try running.waitForListener(agentPort)
        let front = Loopback.freePort()
        let (_, log) = try startFulcrum(running, HTTPProxyTests.httpDefaults()
            + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0]) weight 4 agent-check agent-port \(agentPort) agent-inter 100ms\n"
            + "  server b 127.0.0.1:\(ports[1]) weight 4\n", waitFor: front)
        func spread(_ n: Int) throws -> [String: Int] {
            var seen: [String: Int] = [:]
            for _ in 0..<n { seen[HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/echo")), default: 0] += 1 }
            return seen
        }
        #expect(try spread(8) == ["a": 4, "b": 4])
        try say("25%")
        usleep(400_000)
        #expect(try spread(10) == ["a": 2, "b": 8], "a at a quarter of its weight: 1 to 4")
        try say("drain")
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/a enters drain state. 1 active and 0 backup servers online.") }, "\(Self.log(log))")
        #expect(try spread(6) == ["b": 6])
        try say("ready down#disk full")
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/a is DOWN, reason: agent reports down (disk full)") }, "\(Self.log(log))")
        try say("up 100%")
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/a is UP, reason: agent") }, "\(Self.log(log))")
        #expect(try spread(8) == ["a": 4, "b": 4])
        try say("maint")
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/a is going DOWN for maintenance.") }, "\(Self.log(log))")
        #expect(try spread(4) == ["b": 4])
        try say("ready")
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/a is UP/READY (leaving forced maintenance).") }, "\(Self.log(log))")
        usleep(200_000)
        #expect(try spread(8) == ["a": 4, "b": 4])
    }
}

extension HealthCheckIntegrationTests {
    /// `observe layer7`: consecutive 5xx answers take the server out (`on-error
    /// mark-down`) until its checks bring it back; `on-marked-down shutdown-sessions`
    /// cuts what was running on a server that goes DOWN.
    @Test func passiveHealthAndShutdownSessions() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a", "b"])
        let front = Loopback.freePort(), cut = Loopback.freePort()
        let (_, log) = try startFulcrum(running, HTTPProxyTests.httpDefaults()
            + "listen l\n  bind 127.0.0.1:\(front)\n  balance first\n"
            + "  server a 127.0.0.1:\(ports[0]) check inter 300ms rise 1 observe layer7 error-limit 3 on-error mark-down\n"
            + "  server b 127.0.0.1:\(ports[1])\n"
            + "listen m\n  bind 127.0.0.1:\(cut)\n  option httpchk GET /health\n"
            + "  server a 127.0.0.1:\(ports[0]) check inter 100ms fall 1 on-marked-down shutdown-sessions\n", waitFor: cut)
        for _ in 0..<3 {
            #expect(try HTTPTestConnection.get(front, "/status?code=500")?.header("X-Backend") == "a")
        }
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/a is DOWN, reason: Health analyze, info: \"Detected 3 consecutive errors, last one was: L7 500 status\"") }, "\(Self.log(log))")
        #expect(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/echo")) == "b", "a is out")
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/a is UP, reason: Layer4 check passed") }, "its checks bring it back")
        #expect(HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/echo")) == "a")

        let long = try HTTPTestConnection(port: cut)
        long.send("GET /slow?ms=4000 HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(200_000)
        let start = Date()
        #expect(try HTTPTestConnection.get(ports[0], "/set-health?code=503")?.status == 200)
        #expect(long.isClosedByPeer(), "the session on the server marked DOWN is cut")
        #expect(Date().timeIntervalSince(start) < 2, "long before the response would have come")
    }
}

extension HealthCheckIntegrationTests {
    /// A server back from DOWN with `slowstart` gets a small share at first, its full
    /// share once the ramp is over.
    @Test func slowstartRampsTheWeightAfterRecovery() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try http.startBackends(running, ["a", "b"])
        let front = Loopback.freePort()
        let (_, log) = try startFulcrum(running, HTTPProxyTests.httpDefaults()
            + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0]) weight 20\n"
            + "  server b 127.0.0.1:\(ports[1]) weight 20 check inter 100ms fall 1 rise 1 slowstart 3s\n", waitFor: front)
        func share(_ n: Int) throws -> Int {
            var b = 0
            for _ in 0..<n where HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/echo")) == "b" { b += 1 }
            return b
        }
        running.processes[1].terminate()
        running.processes[1].waitUntilExit()
        #expect(Self.waitFor(2) { Self.log(log).contains("Server l/b is DOWN") })
        try running.start("/usr/bin/env", ["python3", HTTPProxyTests.backendScript, "b", "127.0.0.1", String(ports[1])])
        #expect(Self.waitFor(3) { Self.log(log).contains("Server l/b is UP") })
        let early = try share(40)
        #expect(early <= 8, "just back: b takes a small share (\(early)/40)")
        sleep(3)
        let late = try share(40)
        #expect(late == 20, "after slowstart: its full half (\(late)/40)")
    }
}
