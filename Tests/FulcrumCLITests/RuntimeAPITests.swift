import Foundation
import Testing

/// The stats socket on the real binary: answers, levels, administrative changes that
/// take effect on the next request, interactive mode, and bad input.
@Suite(.serialized) struct RuntimeAPITests {
    static func ask(_ path: String, _ line: String) throws -> String {
        let c = HTTPTestConnection(fd: try #require(ListenerTests.connectUnix(path)), timeout: 5)
        c.send(line + "\n")
        return String(decoding: try c.readToEnd(), as: UTF8.self)
    }

    @Test func commandsLevelsAndEffects() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a", "b"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let admin = dir.appendingPathComponent("admin.sock").path, user = dir.appendingPathComponent("user.sock").path
        let front = Loopback.freePort()
        _ = try HTTPProxyTests().startFulcrum(running, "global\n  stats socket \(admin) mode 600 level admin\n  stats socket \(user) level user\n"
            + HTTPProxyTests.httpDefaults() + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n  server b 127.0.0.1:\(ports[1])\n", waitFor: front)
        func spread(_ n: Int) throws -> [String: Int] {
            var seen: [String: Int] = [:]
            for _ in 0..<n { seen[HTTPProxyTests.backendName(try HTTPTestConnection.get(front, "/echo")), default: 0] += 1 }
            return seen
        }
        var info = stat()
        #expect(stat(admin, &info) == 0 && info.st_mode & 0o777 == 0o600, "mode 600")

        let shown = try Self.ask(admin, "show info")
        #expect(shown.contains("Pid: ") && shown.contains("Uptime_sec: ") && shown.hasSuffix("\n\n"), "\(shown)")
        #expect(try Self.ask(admin, "get weight l/a") == "1 (initial 1)\n\n")
        #expect(try Self.ask(admin, "get weight l/zz") == "No such server.\n\n")
        #expect(try Self.ask(admin, "get weight nope/a") == "No such backend.\n\n")

        #expect(try Self.ask(admin, "disable server l/a") == "\n")
        #expect(try spread(4) == ["b": 4], "a is in maintenance: the next requests avoid it")
        #expect(try Self.ask(admin, "show servers state l").contains("\n2 l 1 a 127.0.0.1 0 1 1 1 "), "in maintenance: stopped (0), forced maint (1), as HAProxy 2.6 (id 2: the stats socket holds 1)")
        #expect(try Self.ask(admin, "enable server l/a; set weight l/a 3") == "\n\n")
        #expect(try spread(8) == ["a": 6, "b": 2], "back, with weight 3")
        #expect(try Self.ask(admin, "set server l/b state drain") == "\n")
        #expect(try spread(4) == ["a": 4], "b drained")
        #expect(try Self.ask(admin, "set server l/b state ready") == "\n")

        #expect(try Self.ask(user, "set weight l/a 1") == "Permission denied\n\n", "level user cannot change anything")
        #expect(try Self.ask(user, "show backend") == "# name\nl\n\n")
        #expect(try Self.ask(user, "bogus").hasPrefix("Unknown command, but maybe one of the following ones is a better match:\n"))

        // show stat: HAProxy 2.6's columns; the rows count what was served.
        let csv = try Self.ask(user, "show stat").split(separator: "\n").map(String.init)
        #expect(csv.first?.hasPrefix("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,") == true)
        #expect(csv.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 129 }, "129 columns, as HAProxy 2.6's")
        func row(_ sv: String) -> [String] { csv.first { $0.hasPrefix("l,\(sv),") }?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? [] }
        let frontend = row("FRONTEND"), a = row("a"), b = row("b"), backend = row("BACKEND")
        #expect(frontend.count > 48 && frontend[17] == "OPEN" && frontend[48] == "16", "req_tot counts the 16 requests: \(frontend.prefix(20))")
        #expect(a.count > 17 && b.count > 17 && Int(a[7])! + Int(b[7])! == 16, "stot: every request went to a or b")
        #expect(a[17] == "no check" && backend[17] == "UP")
        #expect(Int(backend[7]) == 16 && Int(frontend[40]) == 16, "hrsp_2xx")

        // Interactive: a prompt after each answer, until quit.
        let session = HTTPTestConnection(fd: try #require(ListenerTests.connectUnix(admin)), timeout: 5)
        session.send("prompt\n")
        #expect(String(decoding: try session.readBytes(3), as: UTF8.self) == "\n> ", "HAProxy's empty answer, then the prompt")
        session.send("get weight l/a\n")
        #expect(String(decoding: try session.readBytes(17), as: UTF8.self) == "3 (initial 1)\n\n> ")
        session.send("quit\n")
        #expect(session.isClosedByPeer())

        // A line that never ends is refused; the process goes on.
        let flood = HTTPTestConnection(fd: try #require(ListenerTests.connectUnix(admin)), timeout: 5)
        flood.send([UInt8](repeating: 65, count: 200_000))
        // The answer may be lost to the reset a close with unread input causes.
        let refused = (try? flood.readToEnd()).map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(refused.isEmpty || refused.hasPrefix("Line too long."), "\(refused.prefix(40))")
        #expect(flood.isClosedByPeer(), "the connection is closed")
        #expect(try Self.ask(admin, "get weight l/b") == "1 (initial 1)\n\n")
    }
}
