// What the suites share: thread-safe boxes, waits with deadlines, loopback sockets and
// a peer driven by hand, and a stream socket owner that writes down what it hears.

/// A deterministic generator, so that a failing random case fails the same way again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if os(Linux)
import FulcrumEventLoop
import Glibc
import NIOCore
import Synchronization
import Testing

/// A loop-confined value carried through the `@Sendable` closures that run on its loop.
struct Confined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A value shared between the loop's thread and the test's.
final class Shared<Value>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: sending Value) { mutex = Mutex(value) }

    func withLock<R>(_ body: (inout sending Value) -> sending R) -> sending R {
        mutex.withLock { body(&$0) }
    }
}

extension Shared where Value: Sendable {
    var value: Value { withLock { $0 } }
}

/// Polls `condition` until it holds or `timeout` passes; true when it held.
func eventually(within timeout: Duration = .seconds(3), _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// Runs `body` on `loop`'s thread and returns what it returned; `body` must not block.
func onLoop<T>(_ loop: EpollEventLoop, _ body: @escaping () throws -> T) throws -> T {
    let task = Confined(body)
    return try loop.submit { Confined(try task.value()) }.value().value
}

struct TimedOut: Error {}

extension EventLoopFuture where Value: Sendable {
    /// The future's value, waited for at most `timeout`: a loop that lost the work fails
    /// the test instead of hanging it.
    func value(within timeout: Duration = .seconds(3)) throws -> Value {
        let outcome = Shared<Result<Value, any Error>?>(nil)
        whenComplete { result in outcome.withLock { $0 = result } }
        guard eventually(within: timeout, { outcome.value != nil }), let result = outcome.value else { throw TimedOut() }
        return try result.get()
    }
}

/// `count` bytes of a pattern that repeats only every 251 × 256 bytes, so that a lost,
/// doubled or reordered chunk shows.
func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    let period = (0..<(251 * 256)).map { UInt8(truncatingIfNeeded: $0 % 251 &+ ($0 / 251) &* 7) &+ seed }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count {
        bytes.append(contentsOf: period[..<min(period.count, count - bytes.count)])
    }
    return bytes
}

/// Where `received` first differs from `expected`, or nil when they are the same bytes
/// (compared with memcmp: large arrays compare slowly element by element in debug builds).
func difference(_ received: [UInt8], _ expected: [UInt8]) -> String? {
    let common = min(received.count, expected.count)
    let same = received.withUnsafeBytes { a in expected.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, common) == 0 } }
    if same && received.count == expected.count { return nil }
    if same { return "\(received.count) bytes for \(expected.count); the first \(common) are right" }
    var offset = 0
    while received[offset] == expected[offset] { offset += 1 }
    return "\(received.count) bytes for \(expected.count); first difference at \(offset)"
}

// MARK: Sockets

enum SocketKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case unix, tcp
    var testDescription: String { rawValue }
}

/// A connected pair of non-blocking stream sockets: a Unix socket pair, or both ends of
/// a TCP connection on 127.0.0.1.
func connectedPair(_ kind: SocketKind) throws -> (CInt, CInt) {
    switch kind {
    case .unix:
        var fds: [CInt] = [-1, -1]
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw IOError(errnoCode: errno, reason: "socketpair") }
        return (fds[0], fds[1])
    case .tcp:
        let (listener, port) = try listeningSocket()
        defer { Glibc.close(listener) }
        let (client, code) = try connectingSocket(port: port)
        guard code == 0 || code == EINPROGRESS else {
            Glibc.close(client)
            throw IOError(errnoCode: code, reason: "connect")
        }
        guard let server = acceptOne(listener, timeoutMS: 2000) else {
            Glibc.close(client)
            throw IOError(errnoCode: ETIMEDOUT, reason: "accept")
        }
        guard waitFor(client, events: Int16(POLLOUT), timeoutMS: 2000) else {
            Glibc.close(client)
            Glibc.close(server)
            throw IOError(errnoCode: ETIMEDOUT, reason: "connect")
        }
        return (client, server)
    }
}

func loopbackAddress(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}

/// A non-blocking TCP socket listening on 127.0.0.1 at an ephemeral port.
func listeningSocket(backlog: CInt = 128) throws -> (fd: CInt, port: UInt16) {
    let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
    var one: CInt = 1
    _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
    var address = loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(fd, backlog) == 0 else {
        let code = errno
        Glibc.close(fd)
        throw IOError(errnoCode: code, reason: "bind/listen")
    }
    return (fd, localPort(fd))
}

/// A port nothing listens on: bound once, then let go.
func closedPort() throws -> UInt16 {
    let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
    defer { Glibc.close(fd) }
    var address = loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw IOError(errnoCode: errno, reason: "bind") }
    return localPort(fd)
}

/// The port `fd` is bound to.
func localPort(_ fd: CInt) -> UInt16 {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}

/// A non-blocking TCP socket connecting to 127.0.0.1:`port`, and what `connect` said
/// (0, or the errno: EINPROGRESS while the handshake goes on).
func connectingSocket(port: UInt16) throws -> (fd: CInt, code: CInt) {
    let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
    var address = loopbackAddress(port: port)
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return (fd, result == 0 ? 0 : errno)
}

/// A connected client of 127.0.0.1:`port` (non-blocking once connected).
func connectedClient(port: UInt16) throws -> CInt {
    let (fd, code) = try connectingSocket(port: port)
    guard code == 0 || (code == EINPROGRESS && waitFor(fd, events: Int16(POLLOUT), timeoutMS: 2000)),
          pendingSocketError(fd) == 0 else {
        Glibc.close(fd)
        throw IOError(errnoCode: code, reason: "connect")
    }
    return fd
}

func pendingSocketError(_ fd: CInt) -> CInt {
    var error: CInt = 0
    var length = socklen_t(MemoryLayout<CInt>.size)
    guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return errno }
    return error
}

/// Waits at most `timeoutMS` for one connection on `listener`.
func acceptOne(_ listener: CInt, timeoutMS: CInt) -> CInt? {
    guard waitFor(listener, events: Int16(POLLIN), timeoutMS: timeoutMS) else { return nil }
    let fd = accept(listener, nil, nil)
    guard fd >= 0 else { return nil }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    return fd
}

/// True when `fd` became ready for `events` within `timeoutMS`.
func waitFor(_ fd: CInt, events: Int16, timeoutMS: CInt) -> Bool {
    var entry = pollfd(fd: fd, events: events, revents: 0)
    while true {
        let result = poll(&entry, 1, timeoutMS)
        if result < 0 && errno == EINTR { continue }
        return result > 0
    }
}

/// Makes the next close of `fd` send a reset instead of FIN.
func setLingerZero(_ fd: CInt) {
    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
}

/// Bytes waiting in `fd`'s receive queue.
func queuedInput(_ fd: CInt) -> Int {
    var count: CInt = 0
    guard ioctl(fd, UInt(FIONREAD), &count) == 0 else { return -1 }
    return Int(count)
}

/// Writes all of `bytes` to the non-blocking socket `fd`, waiting for room at most `timeoutMS`
/// each time; false when the peer stopped taking them.
@discardableResult
func writeAll(_ fd: CInt, _ bytes: [UInt8], timeoutMS: CInt = 2000) -> Bool {
    var offset = 0
    while offset < bytes.count {
        // MSG_NOSIGNAL: a peer gone is an answer here, not a signal.
        let result = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL)) }
        if result > 0 {
            offset += result
        } else if result < 0 && (errno == EAGAIN || errno == EINTR) {
            guard waitFor(fd, events: Int16(POLLOUT), timeoutMS: timeoutMS) else { return false }
        } else {
            return false
        }
    }
    return true
}

/// What a peer read from its socket.
struct PeerInput {
    var bytes: [UInt8] = []
    /// The socket's end of input (0 from `read`).
    var sawEnd = false
    /// The errno of a failed read (ECONNRESET for a reset).
    var error: CInt = 0
}

/// Reads `fd` until `count` bytes came (all of its input when `count` is left out),
/// input ended, a read failed or `timeoutMS` of silence passed; `chunk` and `pauseMS`
/// make it a slow reader.
func readPeer(_ fd: CInt, upTo count: Int = .max, timeoutMS: CInt = 2000,
              chunk: Int = 65536, pauseMS: UInt32 = 0) -> PeerInput {
    var input = PeerInput()
    var buffer = [UInt8](repeating: 0, count: chunk)
    while input.bytes.count < count {
        let want = min(chunk, count - input.bytes.count)
        let result = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, want) }
        if result > 0 {
            input.bytes += buffer[0..<result]
            if pauseMS > 0 { usleep(pauseMS * 1000) }
        } else if result == 0 {
            input.sawEnd = true
            return input
        } else if errno == EAGAIN || errno == EINTR {
            guard waitFor(fd, events: Int16(POLLIN), timeoutMS: timeoutMS) else { return input }
        } else {
            input.error = errno
            return input
        }
    }
    return input
}

// MARK: Delegates

/// A stream socket's owner that writes down what it hears; `onRead` and the other hooks
/// run on the loop and may act on the socket.
final class Recorder: StreamSocketDelegate, @unchecked Sendable {
    struct Events: Sendable {
        var bytes: [UInt8] = []
        var readSizes: [Int] = []
        var inputEnded = 0
        var connected = 0
        var drained = 0
        var failures: [CInt] = []
        /// Every callback in order, by name.
        var log: [String] = []
    }

    let events = Shared(Events())
    // The loop's thread only.
    var onRead: ((StreamSocket, ByteBuffer) -> Void)?
    var onInputEnded: ((StreamSocket) -> Void)?
    var onConnected: ((StreamSocket) -> Void)?
    var onDrained: ((StreamSocket) -> Void)?

    var snapshot: Events { events.value }

    func socketRead(_ socket: StreamSocket, _ bytes: ByteBuffer) {
        events.withLock {
            $0.bytes += bytes.readableBytesView
            $0.readSizes.append(bytes.readableBytes)
            $0.log.append("read")
        }
        onRead?(socket, bytes)
    }

    func socketInputEnded(_ socket: StreamSocket) {
        events.withLock {
            $0.inputEnded += 1
            $0.log.append("inputEnded")
        }
        onInputEnded?(socket)
    }

    func socketConnected(_ socket: StreamSocket) {
        events.withLock {
            $0.connected += 1
            $0.log.append("connected")
        }
        onConnected?(socket)
    }

    func socketDrained(_ socket: StreamSocket) {
        events.withLock {
            $0.drained += 1
            $0.log.append("drained")
        }
        onDrained?(socket)
    }

    func socketFailed(_ socket: StreamSocket, error: IOError) {
        events.withLock {
            $0.failures.append(error.errnoCode)
            $0.log.append("failed")
        }
    }
}

/// A reference for a closure to reach what is made after it (a timer re-arming itself).
final class Ref<Value> {
    var value: Value?
}
#endif
