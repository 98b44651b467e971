#if canImport(Glibc)
import Glibc
#endif

/// The envelope of one log line as HAProxy sends it to a log target. `rfc3164` (the
/// default) is `<PRI>Mmm dd hh:mm:ss tag[pid]: message`, local time, no host name;
/// `rfc5424` adds the version, an ISO date and the host; `short` and `priority` keep
/// only `<PRI>`; `timed` and `iso` keep a date; `raw` is the bare message. Each line
/// ends with a newline and is cut at the target's `len`.
public enum SyslogFrame {
    public static func facilityCode(_ name: String) -> Int { LogTarget.facilities.firstIndex(of: name) ?? 16 }
    public static func levelCode(_ name: String) -> Int { LogTarget.levels.firstIndex(of: name) ?? 6 }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func frame(_ message: [UInt8], format: String, facility: Int, level: Int, tag: String, pid: Int32, hostname: String,
                             seconds: Int, microseconds: Int, maxLength: Int) -> [UInt8] {
        var out: [UInt8] = []
        let pri = "<\(facility * 8 + level)>"
        var t = time_t(seconds)
        var tm = tm()
        localtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let clock = "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))"
        let day = tm.tm_mday < 10 ? " \(tm.tm_mday)" : "\(tm.tm_mday)"
        let month = months[Int(tm.tm_mon)]
        let offset = Int(tm.tm_gmtoff)
        let sign = offset < 0 ? "-" : "+"
        let zone = "\(sign)\(two(Int32(abs(offset) / 3600))):\(two(Int32(abs(offset) % 3600 / 60)))"
        var micro = String(microseconds)
        while micro.count < 6 { micro = "0" + micro }
        let iso = "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(clock).\(micro)\(zone)"
        switch format {
        case "raw":
            break
        case "short", "priority":
            out += Array(pri.utf8)
        case "timed":
            out += Array("\(pri)\(month) \(day) \(clock) ".utf8)
        case "iso":
            out += Array("\(pri)\(iso) ".utf8)
        case "rfc5424":
            out += Array("\(pri)1 \(iso) \(hostname) \(tag) \(pid) - - ".utf8)
        default:
            out += Array("\(pri)\(month) \(day) \(clock) \(tag)[\(pid)]: ".utf8)
        }
        out += message
        if maxLength > 0 && out.count + 1 > maxLength { out.removeLast(out.count + 1 - maxLength) }
        out.append(UInt8(ascii: "\n"))
        return out
    }
}
