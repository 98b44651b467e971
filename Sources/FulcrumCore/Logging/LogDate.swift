/// Dates as log lines print them. The broken-down time is computed from the epoch
/// seconds (no `gmtime_r` per line); local time is the same with the zone's offset.
public enum LogDate {
    public static let months = Array("JanFebMarAprMayJunJulAugSepOctNovDec".utf8)

    /// The UTC broken-down time of `seconds` since the epoch (proleptic Gregorian).
    public static func gmt(_ seconds: Int) -> LocalTimeCache.LocalTime {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        // Days since 1970-01-01 to a civil date (the algorithm of H. Hinnant's `civil_from_days`).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return LocalTimeCache.LocalTime(year: Int32(year), month: Int32(month - 1), day: Int32(day), hour: Int32(inDay / 3600),
                                        minute: Int32(inDay / 60 % 60), second: Int32(inDay % 60), gmtOffset: 0)
    }

    /// `25/Nov/2026:14:24:01 +0100` (`%T`, `%Tl`, `%trg`, `%trl`): seconds, and the offset.
    public static func withZone(_ time: LocalTimeCache.LocalTime, into out: inout [UInt8]) {
        dayAndClock(time, into: &out)
        out.append(UInt8(ascii: " "))
        let offset = abs(time.gmtOffset) / 60
        out.append(time.gmtOffset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        twoDigits(offset / 60, into: &out)
        twoDigits(offset % 60, into: &out)
    }

    /// `25/Nov/2026:14:24:01`.
    public static func dayAndClock(_ time: LocalTimeCache.LocalTime, into out: inout [UInt8]) {
        twoDigits(Int(time.day), into: &out)
        out.append(UInt8(ascii: "/"))
        out += months[Int(time.month) * 3..<Int(time.month) * 3 + 3]
        out.append(UInt8(ascii: "/"))
        out += String(time.year).utf8
        for part in [time.hour, time.minute, time.second] {
            out.append(UInt8(ascii: ":"))
            twoDigits(Int(part), into: &out)
        }
    }

    static func twoDigits(_ value: Int, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10 % 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
