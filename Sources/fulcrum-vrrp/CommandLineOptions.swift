/// keepalived's command line, the part that applies to its VRRP process.
struct CommandLineOptions {
    var configFiles: [String] = []
    var dontFork = false
    var logConsole = false
    var logDetail = false
    var syslog = true
    var facility: Int32 = 0
    var configTest = false
    var pidFile: String?
    var configID: String?
    var showVersion = false
    var showHelp = false

    static let usage = """
    Usage: fulcrum-vrrp [OPTION...]
      -f, --use-file=FILE          keepalived.conf to read (default /etc/keepalived/keepalived.conf);
                                   with -t, several -f check a cluster's configs together
      -P, --vrrp                   accepted: fulcrum-vrrp only runs VRRP
      -l, --log-console            log to the console (stderr)
      -D, --log-detail             detailed log messages
      -S, --log-facility=0..7      syslog facility local0..local7
          --no-syslog              do not log to syslog
      -n, --dont-fork              stay in the foreground
      -t, --config-test            check the configuration and exit (1 on errors)
      -p, --pid=FILE               pid file
      -r, -c, -b FILE              accepted (keepalived's per-process pid files)
      -i, --config-id=ID           config id for @ID lines (default: the host name)
      -v, --version                print the version and exit
      -h, --help                   this text
    """

    enum ParseError: Error, CustomStringConvertible {
        case missingValue(String)
        case unknown(String)
        case bad(String)
        var description: String {
            switch self {
            case .missingValue(let f): return "option \(f) needs a value"
            case .unknown(let f): return "unknown option \(f)"
            case .bad(let m): return m
            }
        }
    }

    static func parse(_ arguments: [String]) throws -> CommandLineOptions {
        var o = CommandLineOptions()
        var args = arguments[...]
        while let raw = args.first {
            args = args.dropFirst()
            var flag = raw
            var inline: String?
            if raw.hasPrefix("--"), let eq = raw.firstIndex(of: "=") {
                flag = String(raw[..<eq])
                inline = String(raw[raw.index(after: eq)...])
            } else if raw.hasPrefix("-"), !raw.hasPrefix("--"), raw.count > 2, "fSpirbci".contains(raw.dropFirst().first!) {
                flag = String(raw.prefix(2))
                inline = String(raw.dropFirst(2))
            }
            func value() throws -> String {
                if let inline { return inline }
                guard let v = args.first else { throw ParseError.missingValue(flag) }
                args = args.dropFirst()
                return v
            }
            switch flag {
            case "-f", "--use-file": o.configFiles.append(try value())
            case "-n", "--dont-fork": o.dontFork = true
            case "-l", "--log-console": o.logConsole = true
            case "-D", "--log-detail": o.logDetail = true
            case "--no-syslog": o.syslog = false
            case "-S", "--log-facility":
                let v = try value()
                guard let n = Int32(v), (0...7).contains(n) else { throw ParseError.bad("log facility must be 0..7, not \(v)") }
                o.facility = n
            case "-t", "--config-test":
                o.configTest = true
                if let inline { o.configFiles.append(inline) }
            case "-p", "--pid": o.pidFile = try value()
            case "-r", "--vrrp_pid", "-c", "--checkers_pid", "-b", "--bfd_pid": _ = try value()
            case "-P", "--vrrp": break
            case "-i", "--config-id": o.configID = try value()
            case "-v", "--version": o.showVersion = true
            case "-h", "--help": o.showHelp = true
            case "-C", "--check":
                throw ParseError.bad("-C/--check (LVS health checkers) is not supported: fulcrum-vrrp runs VRRP only")
            case "-B", "--no_bfd", "-X", "--release-vips", "-g", "--log-file": break
            default: throw ParseError.unknown(raw)
            }
        }
        if o.configFiles.isEmpty { o.configFiles = ["/etc/keepalived/keepalived.conf"] }
        return o
    }
}
