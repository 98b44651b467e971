/// A point on the monotonic clock. The state machines never read a clock: every input
/// carries `now`, so tests drive them with a manual clock.
public struct VRRPInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static func seconds(_ s: Double) -> VRRPInstant { VRRPInstant(nanoseconds: Int64(s * 1e9)) }

    public static func < (a: VRRPInstant, b: VRRPInstant) -> Bool { a.nanoseconds < b.nanoseconds }

    public static func + (a: VRRPInstant, ns: Int64) -> VRRPInstant { VRRPInstant(nanoseconds: a.nanoseconds + ns) }

    public static func - (a: VRRPInstant, b: VRRPInstant) -> Int64 { a.nanoseconds - b.nanoseconds }

    public var description: String {
        let ms = Double(nanoseconds) / 1e6
        return "\(ms)ms"
    }
}
