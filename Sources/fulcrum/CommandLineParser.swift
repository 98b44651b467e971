/// Parses haproxy-style flags: single-dash multi-letter names (`-db`, `-sf`), values as
/// the next word, `-sf`/`-st` taking every following PID, `--` ending flags.
enum CommandLineParser {
    static let flags: [CommandLineFlag] = [
        CommandLineFlag(names: ["-f"], arity: .one, placeholder: "FILE|DIR", help: "load this configuration file, or every *.cfg file of this directory in lexical order; repeatable") { o, v in o.configPaths.append(v[0]) },
        CommandLineFlag(names: ["-c"], arity: .none, placeholder: "", help: "check the configuration and exit: 0 and \"Configuration file is valid\", or 1 with the alerts") { o, _ in o.checkOnly = true },
        CommandLineFlag(names: ["-v"], arity: .none, placeholder: "", help: "print the version and exit") { o, _ in o.showVersion = true },
        CommandLineFlag(names: ["-vv"], arity: .none, placeholder: "", help: "print the version, build options and feature list, and exit") { o, _ in o.showBuildInfo = true },
        CommandLineFlag(names: ["-d"], arity: .none, placeholder: "", help: "debug mode: stay in the foreground and print debug output") { o, _ in o.debug = true; o.foreground = true },
        CommandLineFlag(names: ["-db"], arity: .none, placeholder: "", help: "stay in the foreground even if the configuration says 'daemon'") { o, _ in o.foreground = true },
        CommandLineFlag(names: ["-D"], arity: .none, placeholder: "", help: "run as a daemon (as 'daemon' in the global section)") { o, _ in o.daemon = true },
        CommandLineFlag(names: ["-W", "-Ws"], arity: .none, placeholder: "", help: "master-worker mode (accepted; Fulcrum runs one process)") { o, _ in o.masterWorker = true },
        CommandLineFlag(names: ["-p"], arity: .one, placeholder: "PIDFILE", help: "write the process id to this file") { o, v in o.pidfile = v[0] },
        CommandLineFlag(names: ["-q"], arity: .none, placeholder: "", help: "quiet: print alerts only") { o, _ in o.quiet = true },
        CommandLineFlag(names: ["-n"], arity: .one, placeholder: "MAXCONN", help: "global maximum number of connections") { o, v throws(CommandLineError) in
            guard let n = Int(v[0]), n > 0 else { throw CommandLineError(message: "-n expects a positive number") }
            o.maxconn = n
        },
        CommandLineFlag(names: ["-L"], arity: .one, placeholder: "NAME", help: "local peer name (sets HAPROXY_LOCALPEER)") { o, v in o.localPeer = v[0] },
        CommandLineFlag(names: ["-sf"], arity: .many, placeholder: "PID...", help: "after starting, ask these processes to finish their connections and exit (reload)") { o, v throws(CommandLineError) in
            o.softStopPIDs += try pids(v, "-sf")
        },
        CommandLineFlag(names: ["-st"], arity: .many, placeholder: "PID...", help: "after starting, stop these processes at once (reload)") { o, v throws(CommandLineError) in
            o.hardStopPIDs += try pids(v, "-st")
        },
        CommandLineFlag(names: ["-cc"], arity: .one, placeholder: "EXPR", help: "evaluate a condition as '.if' does; exit 0 if true, 1 if false, 2 on error") { o, v in o.evaluateCondition = v[0] },
        CommandLineFlag(names: ["-x"], arity: .one, placeholder: "SOCKET", help: "get the listening sockets from the old process through this stats socket (reload)") { o, v in o.socketForListeners = v[0] },
        CommandLineFlag(names: ["-dD"], arity: .none, placeholder: "", help: "diagnostic mode: also print '.diag' messages") { o, _ in o.diagnosticMode = true },
        CommandLineFlag(names: ["-dW"], arity: .none, placeholder: "", help: "zero-warning mode: refuse to start if there is any warning") { o, _ in o.zeroWarning = true },
        CommandLineFlag(names: ["-dM", "-de", "-dp", "-dS", "-dG", "-dV", "-dr", "-dR", "-dL", "-dK", "-dt"], arity: .none, placeholder: "", help: "haproxy debugging switches: accepted and ignored") { _, _ in },
        CommandLineFlag(names: ["--print-modern-config"], arity: .none, placeholder: "", help: "print the configuration with every legacy keyword rewritten in modern syntax, then exit") { o, _ in o.printModernConfig = true },
        CommandLineFlag(names: ["--list-keywords"], arity: .none, placeholder: "", help: "print the table of configuration keywords and their support status (markdown), then exit") { o, _ in o.listKeywords = true },
        CommandLineFlag(names: ["-h", "--help"], arity: .none, placeholder: "", help: "print this help and exit") { o, _ in o.showHelp = true },
    ]

    static func pids(_ values: [String], _ flag: String) throws(CommandLineError) -> [Int32] {
        var out: [Int32] = []
        for v in values {
            guard let pid = Int32(v), pid > 0 else { throw CommandLineError(message: "\(flag) expects process ids, got '\(v)'") }
            out.append(pid)
        }
        return out
    }

    static func parse(_ arguments: [String]) throws(CommandLineError) -> CommandLineOptions {
        var options = CommandLineOptions()
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            if word == "--" {
                options.configPaths += arguments[(i + 1)...]
                break
            }
            // `-dMxx` carries its value in the same word.
            let flagName = word.hasPrefix("-dM") ? "-dM" : word
            guard let flag = flags.first(where: { $0.names.contains(flagName) }) else {
                if word.hasPrefix("-") {
                    throw CommandLineError(message: "unknown option '\(word)' (see 'fulcrum --help')")
                }
                throw CommandLineError(message: "unexpected argument '\(word)': configuration files are given with -f")
            }
            var values: [String] = []
            switch flag.arity {
            case .none:
                i += 1
            case .one:
                guard i + 1 < arguments.count else { throw CommandLineError(message: "option '\(word)' expects \(flag.placeholder)") }
                values = [arguments[i + 1]]
                i += 2
            case .many:
                i += 1
                while i < arguments.count, !arguments[i].hasPrefix("-") {
                    values.append(arguments[i]); i += 1
                }
            }
            try flag.apply(&options, values)
        }
        return options
    }

    static var usage: String {
        var out = """
        Usage: fulcrum [-f FILE|DIR]... [-c] [-v|-vv] [-d|-db|-D] [-p PIDFILE] [-q] [-sf|-st PID...] [-cc EXPR] [-x SOCKET] [-L NAME]
               fulcrum --print-modern-config -f FILE

        Fulcrum is a load balancer that runs HAProxy configuration files.

        Options:

        """
        for flag in flags {
            let names = flag.names.joined(separator: ", ") + (flag.placeholder.isEmpty ? "" : " " + flag.placeholder)
            out += "  " + names + String(repeating: " ", count: max(0, 24 - names.count)) + "  " + flag.help + "\n"
        }
        return out
    }
}
