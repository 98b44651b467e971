import Foundation
import Testing

/// `show stat` and `show info` in their three layouts, next to HAProxy 2.6 on the same
/// configuration and requests: the CSV header, the typed fields' tags and types, the
/// JSON schema, and the values both count.
@Suite(.serialized) struct StatsOutputTests {
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func statOutputsMatchHAProxy() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backends = try HTTPProxyTests().startBackends(running, ["a", "b"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-stat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sockets = [dir.appendingPathComponent("f.sock").path, dir.appendingPathComponent("h.sock").path]
        let dead = Loopback.freePort()
        let ports = try ACLIntegrationTests.startSideBySide(running) { port, which in
            "global\n  stats socket \(sockets[which]) level admin\n" + HTTPProxyTests.httpDefaults() + """
                frontend web
                  bind 127.0.0.1:\(port)
                  default_backend app
                backend app
                  balance roundrobin
                  server a 127.0.0.1:\(backends[0]) check inter 200
                  server b 127.0.0.1:\(backends[1]) check inter 200 weight 3
                  server c 127.0.0.1:\(dead) check inter 200 backup

                """
        }
        func ask(_ which: Int, _ command: String) throws -> String { try RuntimeAPITests.ask(sockets[which], command) }
        // Both have settled: the dead backup is DOWN after its `fall` checks.
        for _ in 0..<50 {
            let settled = try (0...1).allSatisfy { try ask($0, "show stat app 4 3").contains(",DOWN,") }
            if settled { break }
            usleep(100_000)
        }
        for port in ports { for _ in 0..<8 { _ = try HTTPTestConnection.get(port, "/") } }

        // CSV: the same header; the same values where both count the same thing.
        let csv = try (0...1).map { try ask($0, "show stat").split(separator: "\n").map(String.init) }
        #expect(csv[0].first == csv[1].first, "HAProxy 2.6's header")
        let header = csv[0][0].dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func rows(_ lines: [String]) -> [String: [String: String]] {
            var out: [String: [String: String]] = [:]
            for line in lines.dropFirst() {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                out["\(cells[0])/\(cells[1])"] = Dictionary(uniqueKeysWithValues: zip(header, cells).map { ($0, $1) })
            }
            return out
        }
        let ours = rows(csv[0]), theirs = rows(csv[1])
        #expect(Set(ours.keys) == Set(theirs.keys), "the same rows: \(ours.keys.sorted()) vs \(theirs.keys.sorted())")
        let compared = ["status", "weight", "act", "bck", "stot", "lbtot", "hrsp_2xx", "type", "check_status", "check_rise", "check_fall",
                        "check_health", "check_desc", "last_chk", "mode", "algo", "addr", "uweight", "req_tot", "chkdown", "scur", "econ"]
        for (key, row) in ours {
            // HAProxy counts the readiness probe (a connection closed before any request)
            // as a frontend request; Fulcrum does not.
            for field in compared where row[field] != theirs[key]?[field] && !(key == "web/FRONTEND" && field == "req_tot") {
                Issue.record("\(key) \(field): Fulcrum '\(row[field] ?? "")', HAProxy '\(theirs[key]?[field] ?? "")'")
            }
        }

        // Times and the last session: present where HAProxy has them, values of the moment.
        for key in ["app/a", "app/b", "app/BACKEND"] {
            for field in ["qtime", "ctime", "rtime", "ttime", "qtime_max", "ctime_max", "rtime_max", "ttime_max"] {
                #expect(ours[key]?[field].flatMap(Int.init) != nil && theirs[key]?[field].flatMap(Int.init) != nil, "\(key) \(field)")
            }
            #expect((0...3).contains(Int(ours[key]?["lastsess"] ?? "") ?? -9), "\(key) lastsess \(ours[key]?["lastsess"] ?? "")")
            #expect(Int(ours[key]?["ttime_max"] ?? "") ?? 999 < 500, "loopback requests are quick")
        }
        #expect(ours["app/c"]?["lastsess"] == "-1" && theirs["app/c"]?["lastsess"] == "-1", "never used")

        // typed: every field Fulcrum prints has HAProxy's position, name, tags and type.
        func typedShapes(_ text: String) -> Set<String> {
            Set(text.split(separator: "\n").map { line in
                let parts = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
                let key = parts[0].split(separator: ".")
                // object letter, sid, position, name (the proxy id differs: HAProxy numbers its own stats proxy).
                return "\(key[0]).\(key[2]).\(key[3]).\(key[4]):\(parts[1]):\(parts[2])"
            })
        }
        let typed = try (0...1).map { try ask($0, "show stat typed") }
        let unknown = typedShapes(typed[0]).subtracting(typedShapes(typed[1]))
        #expect(unknown.isEmpty, "typed fields HAProxy spells otherwise: \(unknown.sorted())")
        let info = try (0...1).map { try ask($0, "show info typed") }
        func infoShapes(_ text: String) -> Set<String> {
            Set(text.split(separator: "\n").map { line in
                let parts = line.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
                return "\(parts[0]):\(parts[1]):\(parts[2])"
            })
        }
        // Fulcrum's own lines come after HAProxy's, at positions HAProxy 2.6 does not use.
        let ownInfo: Set<String> = ["72.ParkedConns.1:MGP:u32"]
        #expect(infoShapes(info[0]) == infoShapes(info[1]).union(ownInfo), "show info typed: HAProxy's lines, tags and types, then Fulcrum's")

        // json: HAProxy's schema, valid JSON, one array per row.
        let json = try ask(0, "show stat json")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[[String: Any]]])
        #expect(parsed.count == ours.count)
        let first = try #require(parsed.first?.first)
        #expect(Set(first.keys) == ["objType", "proxyId", "id", "field", "processNum", "tags", "value"])
        let infoJSON = try #require(try JSONSerialization.jsonObject(with: Data(try ask(0, "show info json").utf8)) as? [[String: Any]])
        #expect(infoJSON.count == info[1].split(separator: "\n").count + ownInfo.count)

        // Filters: one proxy, servers only (type 4), one server id.
        let servers = try ask(0, "show stat app 4 -1").split(separator: "\n").dropFirst().map { $0.prefix { $0 != "," } + "/" + $0.split(separator: ",")[1] }
        #expect(servers == ["app/a", "app/b", "app/c"])
        #expect(try ask(0, "show stat -1 4 2").split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] } == ["b"])
        #expect(try ask(0, "show stat nope 4 -1") == "No such proxy.\n\n")
    }
}
