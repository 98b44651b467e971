#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// keepalived's logging choices: console (`-l`) and/or syslog with a facility (`-S`).
public final class DaemonLog {
    public var console: Bool
    public var syslog: Bool
    public var detail: Bool

    public init(console: Bool, syslog: Bool, detail: Bool, facility: Int32 = 0, ident: String = "Keepalived_vrrp") {
        self.console = console
        self.syslog = syslog
        self.detail = detail
        if syslog {
            // openlog keeps the pointer: the ident must live as long as the process.
            openlog(strdup(ident), LOG_PID | LOG_NDELAY, (16 + facility) << 3)
        }
    }

    public func info(_ message: String) { emit(LOG_INFO, message) }
    public func warning(_ message: String) { emit(LOG_WARNING, message) }
    public func error(_ message: String) { emit(LOG_ERR, message) }
    public func debug(_ message: String) { if detail { emit(LOG_DEBUG, message) } }

    private func emit(_ priority: Int32, _ message: String) {
        if console {
            var now = time(nil)
            var tm = tm()
            localtime_r(&now, &tm)
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            var buffer = [CChar](repeating: 0, count: 64)
            strftime(&buffer, buffer.count, "%a %b %e %H:%M:%S", &tm)
            let stamp = String(cChars: buffer) + millisecondsSuffix(Int(ts.tv_nsec / 1_000_000))
            let line = stamp + ": " + message + "\n"
            var bytes = Array(line.utf8)[...]
            while !bytes.isEmpty {
                let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                bytes = bytes.dropFirst(n)
            }
        }
        if syslog {
            message.withCString { p in withVaList([p]) { vsyslog(priority, "%s", $0) } }
        }
    }
}

/// ".mmm" without Foundation's String(format:).
func millisecondsSuffix(_ ms: Int) -> String {
    let digits = ms.description
    return "." + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
}
