#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore
import Synchronization

/// Where a proxy's log lines go: its `log` targets (or the global ones for `log
/// global`), each a UDP syslog address, a unix datagram socket or stdout/stderr.
/// Sending never blocks: the sockets are non-blocking and connected once at start
/// (so a `chroot` later does not matter), and a line a target cannot take at once is
/// dropped and counted.
final class LogSink: Sendable {
    struct Target: Sendable {
        let fd: Int32
        let format: String
        let facility: Int
        /// Lines less severe than this (numerically above) are not sent.
        let maxLevel: Int
        /// Lines more severe than this are sent at this level (HAProxy's `minlevel`).
        let minLevel: Int
        let length: Int
    }

    let targets: [Target]
    let tag: String
    let hostname: String
    let pid: Int32
    let dropped = Atomic<Int>(0)

    var isEmpty: Bool { targets.isEmpty }

    init(_ logTargets: [LogTarget], global: GlobalSettings, tag: String?) throws {
        var targets: [Target] = []
        for target in logTargets {
            switch target.destination {
            case .global:
                continue
            case .ring(let name):
                throw ProxyStartError("log target 'ring@\(name)' is not implemented yet")
            case .stdout, .stderr:
                // A descriptor of our own on the same file, non-blocking: a full pipe
                // drops lines instead of stalling an event loop (the process's own fd
                // keeps its blocking mode).
                let fd: Int32 = target.destination == .stdout ? 1 : 2
                let own = Glibc.open("/proc/self/fd/\(fd)", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_APPEND)
                targets.append(Self.target(own >= 0 ? own : fd, target))
            case .address(let spec):
                targets.append(Self.target(try Self.open(spec), target))
            }
        }
        self.targets = targets
        self.tag = tag ?? global.logTag ?? "fulcrum"
        var name = [UInt8](repeating: 0, count: 256)
        _ = name.withUnsafeMutableBufferPointer { gethostname(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        self.hostname = String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
        self.pid = getpid()
    }

    static func target(_ fd: Int32, _ t: LogTarget) -> Target {
        Target(fd: fd, format: t.format ?? "rfc3164", facility: SyslogFrame.facilityCode(t.facility),
               maxLevel: t.maxLevel.map(SyslogFrame.levelCode) ?? 7, minLevel: t.minLevel.map(SyslogFrame.levelCode) ?? 0,
               length: t.length ?? 1024)
    }

    /// A non-blocking datagram socket connected to the target.
    static func open(_ spec: AddressSpec) throws -> Int32 {
        let address: SocketAddress
        switch spec.kind {
        case .inet(let host, _):
            address = try SocketAddress.makeAddressResolvingHost(host.isEmpty ? "127.0.0.1" : host, port: spec.ports?.lowerBound ?? 514)
        case .unix(let path):
            address = try SocketAddress(unixDomainSocketPath: path)
        default:
            throw ProxyStartError("log target '\(spec)' is not supported")
        }
        let fd = socket(address.protocol.rawValue, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProxyStartError("log target '\(spec)': socket(): \(String(cString: strerror(errno)))") }
        let rc = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
        if rc != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ProxyStartError("log target '\(spec)': \(reason)")
        }
        return fd
    }

    /// Sends `message` at `level` (0 emerg ... 7 debug) to every target that takes it.
    func log(level: Int, _ message: [UInt8]) {
        guard !targets.isEmpty else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        for target in targets where level <= target.maxLevel {
            let line = SyslogFrame.frame(message, format: target.format, facility: target.facility, level: max(level, target.minLevel), tag: tag, pid: pid,
                                         hostname: hostname, seconds: Int(now.tv_sec), microseconds: Int(now.tv_nsec / 1000), maxLength: target.length)
            let sent = line.withUnsafeBytes { Glibc.send(target.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if sent < 0 {
                // A datagram to an fd that is not a socket (stdout): write it instead.
                if errno == ENOTSOCK {
                    let written = line.withUnsafeBytes { write(target.fd, $0.baseAddress, $0.count) }
                    if written < 0 { dropped.add(1, ordering: .relaxed) }
                } else {
                    dropped.add(1, ordering: .relaxed)
                }
            }
        }
    }
}
