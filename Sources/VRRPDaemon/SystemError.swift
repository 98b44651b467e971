#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VRRP

/// A failed system call, named with the call and errno's text, so logs say what to fix.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var code: Int32

    public init(_ call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}

/// The one place the daemon reads the time; the state machines get it as an argument.
enum MonotonicClock {
    static func now() -> VRRPInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return VRRPInstant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}

/// setsockopt with any value type.
@discardableResult
func setOption<T>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: T) -> Bool {
    var v = value
    return withUnsafeBytes(of: &v) { setsockopt(fd, level, name, $0.baseAddress, socklen_t($0.count)) } == 0
}

func makeSockaddrIn(_ bytes: [UInt8]) -> sockaddr_in {
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    withUnsafeMutableBytes(of: &sa.sin_addr) { raw in for i in 0..<4 { raw[i] = bytes[i] } }
    return sa
}

func makeSockaddrIn6(_ bytes: [UInt8], scope: UInt32 = 0) -> sockaddr_in6 {
    var sa = sockaddr_in6()
    sa.sin6_family = sa_family_t(AF_INET6)
    sa.sin6_scope_id = scope
    withUnsafeMutableBytes(of: &sa.sin6_addr) { raw in for i in 0..<16 { raw[i] = bytes[i] } }
    return sa
}

func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
}
