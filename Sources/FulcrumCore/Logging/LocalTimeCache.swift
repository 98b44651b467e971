#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// `localtime_r` once per second instead of once per log line: every line written in
/// the same second shares the broken-down time.
public final class LocalTimeCache: Sendable {
    public struct LocalTime: Sendable {
        public var year: Int32, month: Int32, day: Int32, hour: Int32, minute: Int32, second: Int32
        /// Seconds east of UTC.
        public var gmtOffset: Int
    }

    public static let shared = LocalTimeCache()

    private let cache = Mutex<(second: Int, time: LocalTime)>((-1, LocalTime(year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, gmtOffset: 0)))

    public func time(_ seconds: Int) -> LocalTime {
        cache.withLock { entry in
            if entry.second != seconds {
                var t = time_t(seconds)
                var broken = tm()
                localtime_r(&t, &broken)
                entry.time = LocalTime(year: broken.tm_year + 1900, month: broken.tm_mon, day: broken.tm_mday, hour: broken.tm_hour,
                                       minute: broken.tm_min, second: broken.tm_sec, gmtOffset: Int(broken.tm_gmtoff))
                entry.second = seconds
            }
            return entry.time
        }
    }
}
