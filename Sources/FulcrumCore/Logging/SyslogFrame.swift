#if canImport(Glibc)
import Glibc
#endif

/// The envelope of one log line as HAProxy 2.6 sends it to a log target (measured
/// side by side, one line per format):
///
/// - `local`: `<PRI>Mmm dd hh:mm:ss tag[pid]: message`, local time, no host name;
/// - `rfc3164`: the same with the host name after the date (`localhost` when
///   `log-send-hostname` is not set); the default is `local`, or `rfc3164` once
///   `log-send-hostname` is set;
/// - `rfc5424`: `<PRI>1 ISO-date host tag pid - - message` (host `-` when not sent);
/// - `priority`: `<PRI>`, `short`: `<level>`, `timed`: `<level>ISO-date `,
///   `iso`: `ISO-date `, `raw`: nothing.
///
/// The line is cut at the target's `len` (the newline comes on top); ring events are
/// stored without the newline.
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

    /// `format`: nil for the default. `hostname`: the `log-send-hostname` name, nil
    /// when it is not set.
    public static func frame(_ message: [UInt8], format: String?, facility: Int, level: Int, tag: String, pid: Int32, hostname: String?,
                             seconds: Int, microseconds: Int, maxLength: Int, newline: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + 64)
        frame(message, format: format, facility: facility, level: level, tag: tag, pid: pid, hostname: hostname,
              seconds: seconds, microseconds: microseconds, maxLength: maxLength, newline: newline, into: &out)
        return out
    }

    /// The same line appended to `out` (lines gathered in one buffer to be sent
    /// together); `maxLength` counts from where the line starts.
    public static func frame(_ message: [UInt8], format: String?, facility: Int, level: Int, tag: String, pid: Int32, hostname: String?,
                             seconds: Int, microseconds: Int, maxLength: Int, newline: Bool = true, into out: inout [UInt8]) {
        let start = out.count
        let format = format ?? (hostname == nil ? "local" : "rfc3164")
        func priority(_ value: Int) {
            out.append(UInt8(ascii: "<"))
            decimal(value, into: &out)
            out.append(UInt8(ascii: ">"))
        }
        switch format {
        case "raw":
            break
        case "priority":
            priority(facility * 8 + level)
        case "short":
            priority(level)
        case "timed":
            priority(level)
            iso(seconds, microseconds, into: &out)
            out.append(UInt8(ascii: " "))
        case "iso":
            iso(seconds, microseconds, into: &out)
            out.append(UInt8(ascii: " "))
        case "rfc5424":
            priority(facility * 8 + level)
            out += "1 ".utf8
            iso(seconds, microseconds, into: &out)
            out.append(UInt8(ascii: " "))
            out += (hostname ?? "-").utf8
            out.append(UInt8(ascii: " "))
            out += tag.utf8
            out.append(UInt8(ascii: " "))
            decimal(Int(pid), into: &out)
            out += " - - ".utf8
        default:
            // `local` and `rfc3164`, the common case, written without building strings.
            let tm = LocalTimeCache.shared.time(seconds)
            priority(facility * 8 + level)
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
            if format == "rfc3164" {
                out += (hostname ?? "localhost").utf8
                out.append(UInt8(ascii: " "))
            }
            out += tag.utf8
            out.append(UInt8(ascii: "["))
            decimal(Int(pid), into: &out)
            out += "]: ".utf8
        }
        out += message
        if maxLength > 0 && out.count - start > maxLength { out.removeLast(out.count - start - maxLength) }
        if newline { out.append(UInt8(ascii: "\n")) }
    }

    /// `2026-11-25T13:05:11.205762-05:00`, local time with microseconds and the offset.
    static func iso(_ seconds: Int, _ microseconds: Int, into out: inout [UInt8]) {
        let tm = LocalTimeCache.shared.time(seconds)
        decimal(Int(tm.year), into: &out)
        for (separator, value) in [(UInt8(ascii: "-"), tm.month + 1), (UInt8(ascii: "-"), tm.day), (UInt8(ascii: "T"), tm.hour),
                                   (UInt8(ascii: ":"), tm.minute), (UInt8(ascii: ":"), tm.second)] {
            out.append(separator)
            twoDigits(Int(value), into: &out)
        }
        out.append(UInt8(ascii: "."))
        var digits: [UInt8] = []
        decimal(microseconds, into: &digits)
        out += [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 6 - digits.count)) + digits
        let offset = abs(tm.gmtOffset) / 60
        out.append(tm.gmtOffset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        twoDigits(offset / 60, into: &out)
        out.append(UInt8(ascii: ":"))
        twoDigits(offset % 60, into: &out)
    }
}
