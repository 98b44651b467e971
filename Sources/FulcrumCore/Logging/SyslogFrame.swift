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

    static func decimal(_ value: Int, into out: inout [UInt8]) {
        if value >= 10 { decimal(value / 10, into: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    static func twoDigits(_ value: Int, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    public static func frame(_ message: [UInt8], format: String, facility: Int, level: Int, tag: String, pid: Int32, hostname: String,
                             seconds: Int, microseconds: Int, maxLength: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 64)
        if format == "rfc3164" || format == "local" || !["raw", "short", "priority", "timed", "iso", "rfc5424"].contains(format) {
            // The common case, written without building strings.
            let tm = LocalTimeCache.shared.time(seconds)
            out.append(UInt8(ascii: "<"))
            decimal(facility * 8 + level, into: &out)
            out.append(UInt8(ascii: ">"))
            out += months[Int(tm.month)].utf8
            out.append(UInt8(ascii: " "))
            if tm.day < 10 { out.append(UInt8(ascii: " ")) }
            decimal(Int(tm.day), into: &out)
            out.append(UInt8(ascii: " "))
            twoDigits(Int(tm.hour), into: &out)
            out.append(UInt8(ascii: ":"))
            twoDigits(Int(tm.minute), into: &out)
            out.append(UInt8(ascii: ":"))
            twoDigits(Int(tm.second), into: &out)
            out.append(UInt8(ascii: " "))
            out += tag.utf8
            out.append(UInt8(ascii: "["))
            decimal(Int(pid), into: &out)
            out += "]: ".utf8
            out += message
            if maxLength > 0 && out.count + 1 > maxLength { out.removeLast(out.count + 1 - maxLength) }
            out.append(UInt8(ascii: "\n"))
            return out
        }
        let pri = "<\(facility * 8 + level)>"
        let tm = LocalTimeCache.shared.time(seconds)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let clock = "\(two(tm.hour)):\(two(tm.minute)):\(two(tm.second))"
        let day = tm.day < 10 ? " \(tm.day)" : "\(tm.day)"
        let month = months[Int(tm.month)]
        let offset = tm.gmtOffset
        let sign = offset < 0 ? "-" : "+"
        let zone = "\(sign)\(two(Int32(abs(offset) / 3600))):\(two(Int32(abs(offset) % 3600 / 60)))"
        var micro = String(microseconds)
        while micro.count < 6 { micro = "0" + micro }
        let iso = "\(tm.year)-\(two(tm.month + 1))-\(two(tm.day))T\(clock).\(micro)\(zone)"
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
