import Foundation
import Testing

/// The runtime API's commands on the real binary, each checked on real traffic where it
/// has an effect: servers moved, forced down, limited; frontends paused and shut down;
/// connections listed and cut; malformed requests captured; and the socket's answers
/// to bad input (HAProxy 2.6's words, or a closed connection).
@Suite(.serialized) struct RuntimeAPICommandTests {
    static func ask(_ path: String, _ line: String) throws -> String { try RuntimeAPITests.ask(path, line) }

    /// Retries `condition` for up to two seconds: a change made on another event loop
    /// (a checker's, a listener's) lands a moment after the answer.
    static func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<40 {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    struct Sockets {
        let admin: String
        let operator_: String
        let user: String
        var global: String {
            "global\n  stats socket \(admin) level admin\n  stats socket \(operator_) level operator\n  stats socket \(user) level user\n"
        }
        init() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-cmd-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            admin = dir.appendingPathComponent("admin.sock").path
            operator_ = dir.appendingPathComponent("operator.sock").path
            user = dir.appendingPathComponent("user.sock").path
        }
    }

    /// The fields of one `show stat` row.
    static func statRow(_ socket: String, _ proxy: String, _ server: String) throws -> [String] {
        let csv = try ask(socket, "show stat")
        return csv.split(separator: "\n").first { $0.hasPrefix("\(proxy),\(server),") }?
            .split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? []
    }

    /// One column of one `show stat` row, by its name.
    static func stat(_ socket: String, _ proxy: String, _ server: String, _ column: String) throws -> String {
        let header = try ask(socket, "show stat").prefix { $0 != "\n" }.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false)
        guard let k = header.firstIndex(where: { $0 == column }) else { return "?" }
        let row = try statRow(socket, proxy, server)
        return k < row.count ? row[k] : "?"
    }

    /// Whether the peer closed the connection (end of stream or reset).
    static func closedByPeer(_ fd: Int32) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET || errno == EPIPE }
        }
    }

    /// The fields of one server's `show servers state` line.
    static func serverState(_ socket: String, _ backend: String, _ server: String) throws -> [String] {
        let lines = try ask(socket, "show servers state \(backend)").split(separator: "\n")
        return lines.map { $0.split(separator: " ").map(String.init) }.first { $0.count > 4 && $0[1] == backend && $0[3] == server } ?? []
    }

    @Test func serverAddressHealthAgentAndMaxconn() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a", "b"])
        let agentPort = Loopback.freePort(), closed = Loopback.freePort()
        let said = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)")
        try "down".write(to: said, atomically: true, encoding: .utf8)
        try running.start("/usr/bin/env", ["python3", FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/agent.py").path, String(agentPort), said.path])
        try running.waitForListener(agentPort)
        let sockets = try Sockets()
        let (one, checked, agent) = (Loopback.freePort(), Loopback.freePort(), Loopback.freePort())
        _ = try HTTPProxyTests().startFulcrum(running, sockets.global + HTTPProxyTests.httpDefaults()
            + "listen one\n  bind 127.0.0.1:\(one)\n  server s 127.0.0.1:\(ports[0])\n"
            + "listen checked\n  bind 127.0.0.1:\(checked)\n  server c 127.0.0.1:\(ports[0]) check port \(closed) inter 100ms fall 1 rise 1\n"
            + "listen agent\n  bind 127.0.0.1:\(agent)\n  server g 127.0.0.1:\(ports[1]) agent-check agent-port \(agentPort) agent-inter 500ms\n",
            waitFor: one)
        func backend(_ port: Int, _ path: String = "/echo") throws -> String { HTTPProxyTests.backendName(try HTTPTestConnection.get(port, path)) }
        func status(_ port: Int) throws -> Int { try HTTPTestConnection.get(port, "/echo")?.status ?? 0 }
        let admin = sockets.admin

        // set server addr: the next request goes to the other backend.
        #expect(try backend(one) == "a")
        #expect(try Self.ask(admin, "set server one/s addr 127.0.0.1 port \(ports[1])")
                == "no need to change the addr, port changed from '\(ports[0])' to '\(ports[1])' by 'stats socket command'\n\n")
        #expect(try backend(one) == "b", "the new address takes the next connection")
        #expect(try Self.serverState(admin, "one", "s")[18] == String(ports[1]), "srv_port")
        #expect(try Self.stat(admin, "one", "s", "addr") == "127.0.0.1:\(ports[1])", "show stat's addr")
        #expect(try Self.ask(admin, "set server one/s addr 1.2.3") == "Invalid addr '1.2.3' by 'stats socket command'\n\n")
        #expect(try Self.ask(admin, "set server one/s addr 127.0.0.1 port x")
                == "no need to change the addr, problem converting port 'x' to an int by 'stats socket command'\n\n")
        #expect(try Self.ask(admin, "set server one/s addr") == "set server <b>/<s> addr requires an address and optionally a port.\n\n")
        #expect(try backend(one) == "b")

        // set server health: down takes the server out (503), stopping keeps it for
        // persistent traffic only, up brings it back.
        #expect(try Self.ask(admin, "set server one/s health down") == "\n")
        #expect(try status(one) == 503)
        #expect(try Self.serverState(admin, "one", "s")[5] == "0", "srv_op_state stopped")
        #expect(try Self.ask(admin, "set server one/s health stopping") == "\n")
        #expect(try Self.serverState(admin, "one", "s")[5] == "3", "srv_op_state stopping")
        #expect(try Self.statRow(admin, "one", "s")[17] == "NOLB")
        #expect(try status(one) == 503, "a stopping server takes no new traffic")
        #expect(try Self.ask(admin, "set server one/s health up") == "\n")
        #expect(try status(one) == 200)
        #expect(try Self.ask(admin, "set server one/s health sideways") == "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n")

        // set maxconn server 1: a second request at the same time waits in the queue.
        #expect(try Self.ask(admin, "set maxconn server one/s 1") == "\n")
        #expect(try Self.statRow(admin, "one", "s")[6] == "1", "slim")
        // Under `timeout queue` (here `timeout connect`, 1 s), the second one waits.
        let first = try HTTPTestConnection(port: one), second = try HTTPTestConnection(port: one)
        first.send("GET /slow?ms=700 HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(200_000)
        second.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try Self.eventually { try Self.statRow(admin, "one", "BACKEND")[2] == "1" }, "qcur: the second request is queued")
        #expect(try first.readResponse()?.status == 200)
        #expect(try second.readResponse()?.status == 200, "served once the first one ended")
        #expect(try Self.ask(admin, "set maxconn server one/s") == "Require <maxconn>.\n\n")
        #expect(try Self.ask(admin, "set maxconn server one/s many") == "maxconn string empty or preceded by garbage\n\n")
        #expect(try Self.ask(admin, "set maxconn server one/zz 3") == "No such server.\n\n")
        #expect(try Self.ask(admin, "set maxconn server nope/s 3") == "No such backend.\n\n")

        // disable health: a server whose checks fail counts as UP while they are off.
        #expect(try Self.eventually { try status(checked) == 503 }, "its check port is closed")
        #expect(try Self.ask(admin, "disable health checked/c") == "\n")
        #expect(try status(checked) == 200, "checks off: the server is UP")
        #expect(try Self.serverState(admin, "checked", "c")[13] == "2", "srv_check_state: configured, not enabled")
        #expect(try Self.ask(admin, "set server checked/c check-port 1") == "health checks are not enabled on this server\n\n")
        #expect(try Self.ask(admin, "enable health checked/c") == "\n")
        #expect(try Self.eventually { try status(checked) == 503 }, "checks back: DOWN again")
        #expect(try Self.serverState(admin, "checked", "c")[13] == "6")
        // check-port: the checks now reach the server's real port.
        #expect(try Self.ask(admin, "set server checked/c check-port \(ports[0])") == "\n")
        #expect(try Self.eventually { try status(checked) == 200 }, "the check on the new port passes")
        #expect(try Self.serverState(admin, "checked", "c")[21] == String(ports[0]), "srv_check_port")
        #expect(try Self.ask(admin, "set server checked/c check-port 70000") == "provided port is invalid\n\n")
        #expect(try Self.ask(admin, "enable health one/s") == "Health check was not configured on this server, cannot enable.\n\n")

        // The agent says down; disabled, its word no longer counts; set server agent.
        #expect(try Self.eventually { try status(agent) == 503 })
        #expect(try Self.ask(admin, "disable agent agent/g") == "\n")
        #expect(try status(agent) == 200)
        #expect(try Self.serverState(admin, "agent", "g")[14] == "18", "srv_agent_state: agent, configured, not enabled")
        #expect(try Self.ask(admin, "set server agent/g agent down") == "agent checks are not enabled on this server.\n\n")
        try "up".write(to: said, atomically: true, encoding: .utf8)
        #expect(try Self.ask(admin, "enable agent agent/g") == "\n")
        #expect(try Self.ask(admin, "set server agent/g agent down") == "\n")
        #expect(try status(agent) == 503, "forced down until the agent speaks again")
        #expect(try Self.eventually { try status(agent) == 200 }, "the agent's next 'up'")
        #expect(try Self.ask(admin, "set server agent/g agent maybe") == "'set server <srv> agent' expects 'up' or 'down'.\n\n")
        #expect(try Self.ask(admin, "enable agent one/s") == "Agent was not configured on this server, cannot enable.\n\n")

        // Levels: these are admin commands.
        for command in ["set server one/s health down", "disable health checked/c", "set maxconn server one/s 3"] {
            #expect(try Self.ask(sockets.operator_, command) == "Permission denied\n\n", "\(command)")
        }
        #expect(try backend(one) == "b", "nothing changed meanwhile")
    }

    @Test func frontendsLimitsAndCounters() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let sockets = try Sockets()
        let (f1, f2) = (Loopback.freePort(), Loopback.freePort())
        _ = try HTTPProxyTests().startFulcrum(running, sockets.global + "  maxconn 100\n" + HTTPProxyTests.httpDefaults()
            + "frontend f1\n  bind 127.0.0.1:\(f1)\n  default_backend be\n"
            + "frontend f2\n  bind 127.0.0.1:\(f2)\n  default_backend be\n"
            + "backend be\n  server a 127.0.0.1:\(ports[0])\n", waitFor: f1)
        let admin = sockets.admin
        func works(_ port: Int) -> Bool { (try? HTTPTestConnection.get(port, "/echo"))??.status == 200 }

        // disable frontend: its port refuses connections, the other frontend goes on.
        #expect(works(f1) && works(f2))
        #expect(try Self.ask(admin, "disable frontend f1") == "\n")
        #expect(Loopback.connectLoopback(f1) == nil, "refused while paused")
        #expect(works(f2))
        #expect(try Self.statRow(admin, "f1", "FRONTEND")[17] == "PAUSED")
        #expect(try Self.ask(admin, "disable frontend f1") == "All sockets are already disabled.\n\n")
        #expect(try Self.ask(admin, "enable frontend f1") == "\n")
        #expect(works(f1), "accepting again")
        #expect(try Self.statRow(admin, "f1", "FRONTEND")[17] == "OPEN")
        #expect(try Self.ask(admin, "enable frontend f1") == "All sockets are already enabled.\n\n")
        #expect(try Self.ask(admin, "disable frontend nope") == "No such frontend.\n\n")
        #expect(try Self.ask(admin, "disable frontend") == "A frontend name is expected.\n\n")
        #expect(try Self.ask(sockets.operator_, "disable frontend f1") == "Permission denied\n\n")

        // set maxconn frontend 1: a second connection waits until the first closes.
        #expect(try Self.ask(admin, "set maxconn frontend f2 1") == "\n")
        #expect(try Self.statRow(admin, "f2", "FRONTEND")[6] == "1", "slim")
        let held = try HTTPTestConnection(port: f2)
        held.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try held.readResponse()?.status == 200)
        let waiting = try HTTPTestConnection(port: f2, timeout: 1)
        waiting.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect((try? waiting.readResponse()) == nil, "not accepted while the first is open")
        held.disconnect()
        #expect(Self.eventually { (try? waiting.readResponse())??.status == 200 }, "accepted once it closed")
        #expect(try Self.ask(admin, "set maxconn frontend f2 -1") == "Value out of range.\n\n")
        #expect(try Self.ask(admin, "set maxconn frontend f2") == "Integer value expected.\n\n")
        #expect(try Self.ask(admin, "set maxconn frontend f2 1000") == "\n")

        // set maxconn global: within the configured value; 0 restores it.
        #expect(try Self.ask(admin, "set maxconn global 200") == "Value out of range.\n\n")
        #expect(try Self.ask(admin, "set maxconn global 50") == "\n")
        #expect(try Self.ask(admin, "show info").contains("\nMaxconn: 50\n"))
        #expect(try Self.ask(admin, "set maxconn global 0") == "\n")
        #expect(try Self.ask(admin, "show info").contains("\nMaxconn: 100\n"))
        #expect(try Self.ask(admin, "set maxconn global") == "Expects an integer value.\n\n")
        #expect(try Self.ask(admin, "set rate-limit sessions global 10") == "Rate limits are not supported by Fulcrum yet.\n\n")
        #expect(try Self.ask(admin, "set rate-limit nonsense").hasPrefix("'set rate-limit' only supports :\n"))

        // clear counters: the peaks start again; with 'all' the totals too (admin only).
        waiting.disconnect()
        #expect(try Self.eventually { try Self.statRow(admin, "f2", "FRONTEND")[4] == "0" }, "scur")
        let before = try Self.statRow(admin, "f2", "FRONTEND")
        #expect(Int(before[5]) ?? 0 >= 1 && Int(before[7]) ?? 0 >= 2, "smax and stot: \(before.prefix(8))")
        #expect(try Self.ask(sockets.operator_, "clear counters") == "\n")
        let cleared = try Self.statRow(admin, "f2", "FRONTEND")
        #expect(cleared[5] == "0" && cleared[7] == before[7], "smax cleared, stot kept")
        #expect(try Self.ask(sockets.operator_, "clear counters all") == "Permission denied\n\n")
        #expect(try Self.ask(sockets.user, "clear counters") == "Permission denied\n\n")
        #expect(try Self.ask(admin, "clear counters all") == "\n")
        #expect(try Self.statRow(admin, "f2", "FRONTEND")[7] == "0", "stot cleared")

        // shutdown frontend: closed for good.
        #expect(try Self.ask(admin, "shutdown frontend f1") == "\n")
        #expect(Loopback.connectLoopback(f1) == nil)
        #expect(try Self.statRow(admin, "f1", "FRONTEND")[17] == "STOP")
        #expect(try Self.ask(admin, "enable frontend f1") == "Frontend was previously shut down, cannot enable.\n\n")
        #expect(try Self.ask(admin, "shutdown frontend f1") == "Frontend was already shut down.\n\n")
        #expect(works(f2))
    }

    @Test func sessionsErrorsEnvironmentAndBadInput() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let sockets = try Sockets()
        let front = Loopback.freePort()
        let config = try FulcrumProcess.temporaryFile(sockets.global + HTTPProxyTests.httpDefaults()
            + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n")
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", config.path], environment: ["FULCRUM_RUNTIME_TEST": "a=b c"])
        try running.waitForListener(front)
        let pid = running.processes.last!.processIdentifier
        let admin = sockets.admin

        // show sess lists an open connection; shutdown session closes it.
        let client = try HTTPTestConnection(port: front)
        client.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse()?.status == 200)
        let source = "src=127.0.0.1:\(client.localPort) "
        let sessions = try Self.ask(admin, "show sess")
        let line = try #require(sessions.split(separator: "\n").first { $0.contains(source) }, "\(sessions)")
        #expect(line.hasPrefix("0x") && line.contains(": proto=tcpv4 ") && line.contains(" fe=l ") && line.contains(" age="), "\(line)")
        let id = String(line.prefix { $0 != ":" })
        #expect(try Self.ask(admin, "show sess \(id)").hasPrefix(String(line)))
        #expect(try Self.ask(sockets.user, "show sess") == "Permission denied\n\n")
        #expect(try Self.ask(sockets.operator_, "shutdown session \(id)") == "Permission denied\n\n")
        #expect(try Self.ask(admin, "shutdown session \(id)") == "\n")
        #expect(client.isClosedByPeer(), "cut")
        #expect(try Self.eventually { try !Self.ask(admin, "show sess").contains(source) })
        #expect(try Self.ask(admin, "shutdown session \(id)") == "No such session (use 'show sess').\n\n")
        #expect(try Self.ask(admin, "shutdown session") == "Session pointer expected (use 'show sess').\n\n")
        #expect(try Self.ask(admin, "show sess 0xfffffff") == "Session not found.\n\n")

        // show errors: the last malformed request, as HAProxy prints it.
        #expect(try Self.ask(admin, "show errors").hasPrefix("Total events captured on ["))
        let bad = try HTTPTestConnection(port: front)
        bad.send("GET /x HTTP/1.1\r\nHost: a\r\nBad Header: \u{1}x\r\n\r\n")
        #expect(try bad.readResponse()?.status == 400)
        let errors = try Self.ask(sockets.operator_, "show errors")
        #expect(errors.contains("] : 1\n \n["), "\(errors)")
        #expect(errors.contains("] frontend l (#2): invalid request\n  backend <NONE> (#-1), server <NONE> (#-1), event #"), "\(errors)")
        #expect(errors.contains("len 44, wraps at ") && errors.contains("error at position 29\n"), "\(errors)")
        #expect(errors.hasSuffix("  00000  GET /x HTTP/1.1\\r\\n\n  00017  Host: a\\r\\n\n  00026  Bad Header: \\x01x\\r\\n\n  00042  \\r\\n\n\n"), "\(errors)")
        #expect(try Self.ask(admin, "show errors l request").contains("invalid request"))
        #expect(try !Self.ask(admin, "show errors l response").contains("invalid request"))
        #expect(try Self.ask(admin, "show errors nope") == "No such proxy.\n\n")
        #expect(try Self.ask(sockets.user, "show errors") == "Permission denied\n\n")

        // show env.
        #expect(try Self.ask(sockets.operator_, "show env FULCRUM_RUNTIME_TEST") == "FULCRUM_RUNTIME_TEST=a=b c\n\n")
        // A line of its own, wherever the environment puts it (first, when the launcher's
        // dictionary happens to order it so).
        #expect(try Self.ask(admin, "show env").split(separator: "\n").contains("FULCRUM_RUNTIME_TEST=a=b c"))
        #expect(try Self.ask(admin, "show env NOT_THERE_AT_ALL") == "Variable not found\n\n")
        #expect(try Self.ask(sockets.user, "show env") == "Permission denied\n\n")

        // Bad input: one line of HAProxy's words, nothing else changes.
        #expect(try Self.ask(admin, "frobnicate").hasPrefix("Unknown command, but maybe one of the following ones is a better match:\n"))
        #expect(try Self.ask(admin, "set server l/a bogus 1").hasPrefix("usage: set server <backend>/<server> "))
        #expect(try Self.ask(admin, "set server nope/a health up") == "No such backend.\n\n")
        #expect(try Self.ask(admin, "disable health l") == "Require 'backend/server'.\n\n")
        #expect(try Self.ask(admin, "set server l/a state sideways") == "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n")
        // Several lines at once: each answered, then the connection closes (as HAProxy).
        let two = HTTPTestConnection(fd: try #require(ListenerTests.connectUnix(admin)), timeout: 5)
        two.send("show env FULCRUM_RUNTIME_TEST\nget weight l/a\n")
        #expect(String(decoding: try two.readToEnd(), as: UTF8.self) == "FULCRUM_RUNTIME_TEST=a=b c\n\n1 (initial 1)\n\n")
        // A megabyte without a newline: refused and closed.
        let flood = HTTPTestConnection(fd: try #require(ListenerTests.connectUnix(admin)), timeout: 5)
        flood.send([UInt8](repeating: 65, count: 1 << 20))
        #expect(Self.closedByPeer(flood.fd))
        // A client that sends commands and never reads: the socket stops reading it, so
        // its answers do not pile up in memory.
        let rssBefore = try #require(Loopback.residentKiB(pid))
        let greedy = HTTPTestConnection(fd: try #require(ListenerTests.connectUnix(admin)), timeout: 5)
        var nonblocking = fcntl(greedy.fd, F_GETFL)
        nonblocking |= O_NONBLOCK
        _ = fcntl(greedy.fd, F_SETFL, nonblocking)
        greedy.send("prompt\n")
        let commands = Array(String(repeating: "show stat\n", count: 200_000).utf8)
        var offered = 0
        for _ in 0..<200 {
            let n = commands[offered...].withUnsafeBytes { Glibc.send(greedy.fd, $0.baseAddress, min($0.count, 65536), Int32(MSG_NOSIGNAL)) }
            if n > 0 { offered += n } else { usleep(10_000) }
            if offered >= commands.count { break }
        }
        usleep(300_000)
        let rssAfter = try #require(Loopback.residentKiB(pid))
        #expect(offered < commands.count, "the socket stopped taking commands (\(offered) bytes taken)")
        #expect(rssAfter - rssBefore < 16_384, "memory grew by \(rssAfter - rssBefore) KiB")
        #expect(try Self.ask(admin, "get weight l/a") == "1 (initial 1)\n\n", "other clients are served meanwhile")
        greedy.disconnect()
        #expect(try HTTPTestConnection.get(front, "/echo")?.status == 200)
    }
}
