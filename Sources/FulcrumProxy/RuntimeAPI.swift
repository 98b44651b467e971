#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore

/// The commands of the stats socket, as one table: each has its words, the level it
/// needs (`user` < `operator` < `admin`, as HAProxy's `level`) and its help line, so
/// `help`, parsing and the docs cannot drift apart. Commands run on the socket's event
/// loop and only touch the backends through their locks.
struct RuntimeAPI: Sendable {
    enum Level: Int, Comparable, Sendable {
        case user, `operator`, admin
        init(_ name: String) { self = name == "admin" ? .admin : name == "user" ? .user : .operator }
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    struct Command: Sendable {
        let words: [String]
        let arguments: String
        let level: Level
        let help: String
        /// The answer, worked out on the socket's loop, or later when the command
        /// needs other loops (sessions, listeners, checkers).
        let answer: @Sendable (RuntimeAPI, [String], EventLoop) -> Reply

        init(words: [String], arguments: String, level: Level, help: String, run: @escaping @Sendable (RuntimeAPI, [String]) -> String) {
            self.init(words: words, arguments: arguments, level: level, help: help) { api, args, _ in .text(run(api, args)) }
        }

        init(words: [String], arguments: String, level: Level, help: String, answer: @escaping @Sendable (RuntimeAPI, [String], EventLoop) -> Reply) {
            self.words = words
            self.arguments = arguments
            self.level = level
            self.help = help
            self.answer = answer
        }
    }

    enum Reply {
        case text(String)
        case later(EventLoopFuture<String>)
        /// `quit`: the conversation ends.
        case quit
    }

    let pools: [String: BackendPool]
    /// Map and ACL pattern files, for `show map`, `add acl`, ...
    let patterns: PatternFiles
    let tables: [String: StickTable]
    let stats: StatsRegistry
    let log: ProxyRuntime.Log
    /// The client connections open now (`show sess`, `shutdown session`).
    let sessions: SessionRegistry
    /// The proxy's listeners (`disable frontend`...).
    let runtime: RuntimeHandle

    static let table: [Command] = [
        Command(words: ["help"], arguments: "", level: .user, help: "list the commands valid at this level", run: { _, _ in "" }),
        Command(words: ["prompt"], arguments: "", level: .user, help: "interactive mode: commands until 'quit'", run: { _, _ in "" }),
        Command(words: ["quit"], arguments: "", level: .user, help: "close the connection (interactive mode)", run: { _, _ in "" }),
        Command(words: ["show", "info"], arguments: "[typed|json]", level: .user, help: "report information about the running process", run: { api, args in
            api.stats.infoText(format: args.first { $0 == "typed" || $0 == "json" })
        }),
        Command(words: ["show", "backend"], arguments: "", level: .user, help: "list the backends", run: { api, _ in
            "# name\n" + api.pools.keys.sorted().map { $0 + "\n" }.joined()
        }),
        Command(words: ["show", "stat"], arguments: "[{<iid>|<proxy>} <type> <sid>] [typed|json] [up|no-maint]", level: .user,
                help: "report counters for each proxy and server", run: { api, args in api.stat(args) }),
        Command(words: ["show", "servers", "state"], arguments: "[<backend>]", level: .user, help: "dump the servers' state", run: { api, args in api.serversState(args.first) }),
        Command(words: ["get", "weight"], arguments: "<backend>/<server>", level: .user, help: "report a server's current and initial weight", run: { api, args in
            api.withServer(args) { pool, index in
                "\(pool.status(index).weight) (initial \(pool.serverConfigs[index].options.weight))\n"
            }
        }),
        Command(words: ["set", "weight"], arguments: "<backend>/<server> <weight>[%]", level: .admin, help: "change a server's weight", run: { api, args in
            api.withServer(args) { pool, index in api.setWeight(pool, index, args.dropFirst().first) }
        }),
        Command(words: ["set", "server"], arguments: "<backend>/<server> <setting> <value>...", level: .admin,
                help: "change a server's state, weight, address, health, agent or check port", answer: { api, args, loop in
            guard let path = args.first.flatMap(RuntimeCommandLine.serverPath) else { return .text("Require 'backend/server'.\n") }
            guard let pool = api.pools[path.backend] else { return .text("No such backend.\n") }
            guard let index = pool.serverConfigs.firstIndex(where: { $0.name == path.server }) else { return .text("No such server.\n") }
            switch (args.count > 1 ? args[1] : "", args.count > 2 ? args[2] : "") {
            case ("state", "ready"): return .text(api.setState(pool, index, maint: false, drain: false))
            case ("state", "drain"): return .text(api.setState(pool, index, maint: false, drain: true))
            case ("state", "maint"): return .text(api.setState(pool, index, maint: true, drain: false))
            case ("state", _): return .text("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n")
            case ("weight", let value): return .text(api.setWeight(pool, index, value))
            default: return api.setServer(pool, index, Array(args.dropFirst()), on: loop)
            }
        }),
        Command(words: ["disable", "server"], arguments: "<backend>/<server>", level: .admin, help: "put a server in maintenance", run: { api, args in
            api.withServer(args) { pool, index in api.setState(pool, index, maint: true, drain: pool.status(index).drain) }
        }),
        Command(words: ["enable", "server"], arguments: "<backend>/<server>", level: .admin, help: "take a server out of maintenance", run: { api, args in
            api.withServer(args) { pool, index in api.setState(pool, index, maint: false, drain: pool.status(index).drain) }
        }),
        Command(words: ["shutdown", "sessions", "server"], arguments: "<backend>/<server>", level: .admin, help: "cut the sessions on a server", run: { api, args in
            api.withServer(args) { pool, index in
                pool.shutdownSessions([index])
                return ""
            }
        }),
        Command(words: ["show", "events"], arguments: "[<sink>] [-w] [-n]", level: .user, help: "show event sink state", run: { _, args in LogRing.showEvents(args) }),
        Command(words: ["show", "table"], arguments: "[<table> [data.<type> <op> <value>]... | [key <key>]]", level: .operator,
                help: "list the stick tables, or the entries of one (filtered by data or key)", run: { api, args in
            let now = SampleContext.monotonicMilliseconds()
            guard let name = args.first else {
                return api.tables.keys.sorted().map { api.tables[$0]!.summary(now: now) + "\n" }.joined()
            }
            guard let table = api.tables[name] else { return "No such table\n" }
            var filters: [StickTable.DataFilter] = []
            var key: [UInt8]?
            if args.count > 1 {
                if args[1] == "key" {
                    guard args.count > 2, !args[2].isEmpty else { return "Key value expected\n" }
                    if table.config.type == .integer && table.key(parsing: args[2]) == nil { return "Invalid key\n" }
                    // A key that cannot be one of this table's finds nothing, as in HAProxy.
                    guard let k = table.key(parsing: args[2]) else { return "" }
                    key = k
                } else if args[1].hasPrefix("data.") {
                    do throws(StickTable.FilterError) { filters = try table.dataFilters(args[1...], firstWord: 4) } catch { return error.message + "\n" }
                } else {
                    return "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>\n"
                }
            }
            let entries = table.dump(now: now, filters: filters, key: key)
            // A key lookup that finds nothing prints nothing, not even the header.
            if key != nil && entries.isEmpty { return "" }
            return ([table.summary(now: now)] + entries).map { $0 + "\n" }.joined()
        }),
        Command(words: ["clear", "table"], arguments: "<table> [data.<type> <op> <value>]... | [key <key>]", level: .operator,
                help: "remove the idle entries of a stick table, those matching data filters, or one key", run: { api, args in
            let usage = "Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>\n"
            guard let name = args.first else { return usage }
            guard let table = api.tables[name] else { return "No such table\n" }
            if args.count == 1 {
                table.clear()
            } else if args[1] == "key" {
                guard args.count > 2, !args[2].isEmpty else { return "Key value expected\n" }
                if table.config.type == .integer && table.key(parsing: args[2]) == nil { return "Invalid key\n" }
                if let key = table.key(parsing: args[2]) { table.clear(key: key) }
            } else if args[1].hasPrefix("data.") {
                do throws(StickTable.FilterError) {
                    table.clear(where: try table.dataFilters(args[1...], firstWord: 4), now: SampleContext.monotonicMilliseconds())
                } catch {
                    return error.message + "\n"
                }
            } else {
                return usage
            }
            return ""
        }),
    ] + patternCommands(maps: true) + patternCommands(maps: false) + serverCommands + proxyCommands + sessionCommands

    /// `show|get|add|set|del|clear map` and their `acl` counterparts.
    static func patternCommands(maps: Bool) -> [Command] {
        let kind = maps ? "map" : "acl"
        var commands = [
            Command(words: ["show", kind], arguments: "[<\(kind)>]", level: .operator, help: maps ? "list the maps, or the entries of one" : "list the ACL pattern files, or the patterns of one", run: { api, args in
                api.showPatterns(args.first, maps: maps)
            }),
            Command(words: ["get", kind], arguments: "<\(kind)> <value>", level: .operator, help: "report the entry a value matches", run: { api, args in
                api.getPattern(args, maps: maps)
            }),
            Command(words: ["add", kind], arguments: maps ? "<map> <key> <value>" : "<acl> <pattern>", level: .admin, help: "add an entry", run: { api, args in
                api.editPatterns(args, maps: maps, needs: maps ? 3 : 2) { list, a throws(ConfigError) in
                    try list.add(key: a[1], value: maps ? a[2...].joined(separator: " ") : nil)
                    return true
                }
            }),
            Command(words: ["del", kind], arguments: "<\(kind)> <key>|#<ref>", level: .admin, help: "remove an entry", run: { api, args in
                api.editPatterns(args, maps: maps, needs: 2, missing: "Key not found.\n") { list, a throws(ConfigError) in list.delete(key: a[1]) }
            }),
            Command(words: ["clear", kind], arguments: "<\(kind)>", level: .admin, help: "remove every entry", run: { api, args in
                api.editPatterns(args, maps: maps, needs: 1) { list, _ throws(ConfigError) in list.clear(); return true }
            }),
        ]
        if maps {
            commands.append(Command(words: ["set", "map"], arguments: "<map> <key>|#<ref> <value>", level: .admin, help: "change an entry's value", run: { api, args in
                api.editPatterns(args, maps: true, needs: 3, missing: "entry not found.\n") { list, a throws(ConfigError) in
                    try list.set(key: a[1], value: a[2...].joined(separator: " "))
                }
            }))
        }
        return commands
    }

    static func helpText(_ level: Level) -> String {
        "The following commands are valid at this level:\n" + usageLines(table.filter { $0.level <= level })
    }

    static func usageLines(_ commands: [Command]) -> String {
        var out = ""
        for command in commands {
            let usage = (command.words + (command.arguments.isEmpty ? [] : [command.arguments])).joined(separator: " ")
            out += "  " + usage + String(repeating: " ", count: max(0, 48 - usage.count)) + " : " + command.help + "\n"
        }
        return out
    }

    /// HAProxy 2.6's answer to a command it does not know: the commands of this level
    /// that begin with the same word (all of them if none does), then the ever-present ones.
    static func unknownCommand(_ words: [String], level: Level) -> String {
        let visible = table.filter { $0.level <= level && !["help", "prompt", "quit"].contains($0.words[0]) }
        let close = visible.filter { $0.words.first == words.first }
        return "Unknown command, but maybe one of the following ones is a better match:\n" + usageLines(close.isEmpty ? visible : close)
            + usageLines(table.filter { ["help", "prompt", "quit"].contains($0.words[0]) })
    }

    /// Runs one command at the socket's level.
    func run(_ words: [String], level: Level, on loop: EventLoop) -> Reply {
        guard let command = Self.table.filter({ Array(words.prefix($0.words.count)) == $0.words }).max(by: { $0.words.count < $1.words.count }) else {
            return .text(Self.unknownCommand(words, level: level))
        }
        if command.words == ["quit"] { return .quit }
        if command.words == ["help"] { return .text(Self.helpText(level)) }
        guard level >= command.level else { return .text("Permission denied\n") }
        return command.answer(self, Array(words.dropFirst(command.words.count)), loop)
    }

    // MARK: - commands

    func showPatterns(_ name: String?, maps: Bool) -> String {
        guard let name else {
            var out = "# id (file) description\n"
            for (id, file) in patterns.files(maps: maps) {
                let count = patterns.lists(named: file, maps: maps).first?.entries.count ?? 0
                out += "\(id) (\(file)) pattern loaded from file '\(file)' used by \(maps ? "map" : "acl"). curr_ver=0 next_ver=0 entry_cnt=\(count)\n"
            }
            return out
        }
        guard let list = patterns.lists(named: name, maps: maps).first else {
            return "Unknown \(maps ? "map" : "ACL") identifier. Please use #<id> or <file>.\n"
        }
        return list.entries.map { e in
            "\(PatternList.reference(e.id)) \(e.key)" + (e.value.map { " " + String(decoding: $0.bytes, as: UTF8.self) } ?? "") + "\n"
        }.joined()
    }

    func getPattern(_ args: [String], maps: Bool) -> String {
        guard args.count >= 2 else { return "'get \(maps ? "map" : "acl")' expects the file and a value.\n" }
        guard let list = patterns.lists(named: args[0], maps: maps).first else {
            return "Unknown \(maps ? "map" : "ACL") identifier. Please use #<id> or <file>.\n"
        }
        let value = args[1...].joined(separator: " ")
        let sample: SampleValue = .string(Array(value.utf8))
        let head = "type=\(list.method.rawValue), case=\(list.ignoreCase ? "insensitive" : "sensitive")"
        guard let e = list.match(sample) else { return head + (maps ? ", found=no\n" : ", match=no\n") }
        if maps {
            return head + ", found=yes, idx=tree, key=\"\(e.key)\", value=\"\(e.value.map { String(decoding: $0.bytes, as: UTF8.self) } ?? "")\", type=\"\(list.valueType?.rawValue ?? "str")\"\n"
        }
        return head + ", match=yes, idx=tree, pattern=\"\(e.key)\"\n"
    }

    /// Applies `change` to every list loaded from the named file (a file read with two
    /// match methods is two lists, changed together).
    func editPatterns(_ args: [String], maps: Bool, needs: Int, missing: String = "",
                      _ change: (PatternList, [String]) throws(ConfigError) -> Bool) -> String {
        guard args.count >= needs else { return "Missing arguments (expects \(needs)).\n" }
        let lists = patterns.lists(named: args[0], maps: maps)
        guard !lists.isEmpty else { return "Unknown \(maps ? "map" : "ACL") identifier. Please use #<id> or <file>.\n" }
        var any = false
        for list in lists {
            do throws(ConfigError) {
                if try change(list, args) { any = true }
            } catch {
                return error.message + "\n"
            }
        }
        return any ? "" : missing
    }

    func withServer(_ args: [String], _ body: (BackendPool, Int) -> String) -> String {
        guard let path = args.first.flatMap(RuntimeCommandLine.serverPath) else { return "Require 'backend/server'.\n" }
        guard let pool = pools[path.backend] else { return "No such backend.\n" }
        guard let index = pool.serverConfigs.firstIndex(where: { $0.name == path.server }) else { return "No such server.\n" }
        return body(pool, index)
    }

    func setWeight(_ pool: BackendPool, _ index: Int, _ value: String?) -> String {
        guard let value, !value.isEmpty else { return "Require <weight> or <weight%>.\n" }
        let initial = pool.serverConfigs[index].options.weight
        let weight: Int?
        if value.hasSuffix("%") {
            weight = Int(value.dropLast()).map { initial * min($0, 25_600) / 100 }
        } else {
            weight = Int(value)
        }
        guard let weight, weight >= 0, weight <= 256 else { return "Weight must be between 0 and 256.\n" }
        pool.setWeight(index, weight)
        return ""
    }

    func setState(_ pool: BackendPool, _ index: Int, maint: Bool, drain: Bool) -> String {
        let before = pool.status(index)
        let counts = pool.setAdministrative(index, maint: maint, drain: drain)
        let name = "\(pool.name)/\(pool.serverConfigs[index].name)"
        var lines: [(Int, String)] = []
        if maint && !before.maint {
            lines.append((1, "Server \(name) is going DOWN for maintenance. \(counts.activeUsable) active and \(counts.backupUsable) backup servers left. \(counts.sessionsOnServer) sessions active, 0 requeued, 0 remaining in queue."))
        } else if !maint && before.maint {
            lines.append((5, "Server \(name) is UP/READY (leaving forced maintenance)."))
        }
        if drain && !before.drain {
            lines.append((5, "Server \(name) enters drain state. \(counts.activeUsable) active and \(counts.backupUsable) backup servers online. 0 sessions requeued, \(counts.queued) total in queue."))
        } else if !drain && before.drain && !maint {
            lines.append((5, "Server \(name) is UP/READY (leaving forced drain)."))
        }
        for (level, line) in lines {
            log(.warning, line)
            pool.eventLog?.log(level: level, Array(line.utf8))
        }
        return ""
    }

    /// `show stat [{<iid>|<proxy>} <type> <sid>] [typed|json] [up|no-maint]`.
    func stat(_ args: [String]) -> String {
        var words = args
        var format: String?
        var upOnly = false, noMaint = false
        words.removeAll { word in
            switch word {
            case "typed", "json": format = word
            case "up": upOnly = true
            case "no-maint": noMaint = true
            case "desc": break
            default: return false
            }
            return true
        }
        var snapshot = stats.snapshot()
        if !words.isEmpty {
            guard words.count == 3, let mask = Int(words[1]), let sid = Int(words[2]) else {
                return "Require 'show stat [{<iid>|<proxy>} <type> <sid>]'.\n"
            }
            if let id = Int(words[0]) {
                snapshot = snapshot.filtered(proxyID: id, proxyName: nil, mask: mask, serverID: sid)
            } else {
                guard stats.proxy(named: words[0]) != nil else { return "No such proxy.\n" }
                snapshot = snapshot.filtered(proxyID: nil, proxyName: words[0], mask: mask, serverID: sid)
            }
        }
        if upOnly || noMaint {
            snapshot.rows.removeAll { row in
                guard row.kind == .server else { return false }
                let status = row.text("status")
                return status == "MAINT" || (upOnly && !status.hasPrefix("UP") && status != "no check")
            }
        }
        switch format {
        case "typed": return snapshot.typed()
        case "json": return snapshot.json()
        default: return snapshot.csv()
        }
    }
}
