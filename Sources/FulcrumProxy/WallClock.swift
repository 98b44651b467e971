#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time, for log dates and the statistics' ages (durations use the event
/// loop's monotonic clock instead).
enum WallClock {
    static func now() -> (seconds: Int, milliseconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int(now.tv_sec), Int(now.tv_nsec / 1_000_000))
    }

    static func seconds() -> Int { now().seconds }
}
