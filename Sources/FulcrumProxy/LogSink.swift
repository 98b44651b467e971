#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore
import Synchronization

/// Where a proxy's log lines go: its `log` targets (or the global ones for `log
/// global`), each a UDP syslog address, a unix datagram socket, stdout/stderr or a
/// `ring` section, each taking every line or a `sample` of them.
/// Sending never blocks: the sockets are non-blocking and connected once at start
/// (so a `chroot` later does not matter), and a line a target cannot take at once is
/// dropped and counted. A unix socket that is gone (syslogd restarted, or not started
/// yet) is connected again, at most once a second. Lines written on Fulcrum's event
/// loops (HTTP mode) go to syslog sockets together at the end of the loop's turn
/// (`LogBatch`); elsewhere each line is sent as it is written.
final class LogSink: Sendable {
    final class Target: Sendable {
        /// The descriptor lines go to; -1 while a unix socket is not connected.
        let fd: Atomic<Int32>
        /// Where to connect again (unix sockets only).
        let reconnectTo: SocketAddress?
        let lastAttempt = Atomic<Int>(0)
        /// `log ring@<name>`: the ring takes the lines, in its own format and length.
        let ring: LogRing?
        /// `sample <ranges>:<size>`, and the lines of this level the target was offered.
        let sampling: LogSampling?
        let offered = Atomic<Int>(0)
        /// nil: the default (`local`, or `rfc3164` with `log-send-hostname`).
        let format: String?
        let facility: Int
        /// Lines less severe than this (numerically above) are not sent.
        let maxLevel: Int
        /// Lines more severe than this are sent at this level (HAProxy's `minlevel`).
        let minLevel: Int
        let length: Int
        /// A syslog socket (UDP or unix): on Fulcrum's event loops its lines are sent
        /// together at the end of each turn (`LogBatch`).
        let batched: Bool

        init(fd: Int32, reconnectTo: SocketAddress?, ring: LogRing? = nil, batched: Bool = false, _ t: LogTarget) {
            self.fd = Atomic(fd)
            self.batched = batched
            self.reconnectTo = reconnectTo
            self.ring = ring
            sampling = t.sample
            // A ring stores its lines in its own format, cut at its `maxlen`.
            format = ring?.config.format ?? t.format
            facility = SyslogFrame.facilityCode(t.facility)
            maxLevel = t.maxLevel.map(SyslogFrame.levelCode) ?? 7
            minLevel = t.minLevel.map(SyslogFrame.levelCode) ?? 0
            // Into a ring, both the line's `len` and the ring's `maxlen` apply.
            length = ring.map { min(t.length ?? 1024, $0.config.maxLength) } ?? t.length ?? 1024
        }

        /// `sample`: whether this line is one of those the target keeps.
        func takesNext() -> Bool {
            guard let sampling else { return true }
            return sampling.takes(offered.add(1, ordering: .relaxed).newValue - 1)
        }

        /// The connected descriptor, connecting a unix socket again if it is time to try.
        func descriptor(now: Int) -> Int32? {
            let current = fd.load(ordering: .acquiring)
            if current >= 0 { return current }
            guard let address = reconnectTo, lastAttempt.exchange(now, ordering: .relaxed) != now else { return nil }
            guard let fresh = try? LogSink.connect(address) else { return nil }
            if fd.compareExchange(expected: -1, desired: fresh, ordering: .acquiringAndReleasing).exchanged { return fresh }
            close(fresh)
            return fd.load(ordering: .acquiring)
        }

        /// The unix socket's reader went away: connect again later.
        func disconnect(_ stale: Int32) {
            guard reconnectTo != nil, fd.compareExchange(expected: stale, desired: -1, ordering: .acquiringAndReleasing).exchanged else { return }
            close(stale)
        }
    }

    let targets: [Target]
    let tag: String
    /// The longest text of a line (`logLineLimit` less one), whatever the target.
    let textLimit: Int
    /// `log-send-hostname`: the name sent in `rfc3164`/`rfc5424` headers, nil when not set.
    let hostname: String?
    let pid: Int32
    let dropped = Atomic<Int>(0)

    /// Lines no target could take at once, in the whole process (`show info`'s
    /// DroppedLogs).
    static let droppedLines = Atomic<Int>(0)

    /// The process's dropped log lines so far, for the runtime API's `show info`.
    static var droppedLogs: Int { droppedLines.load(ordering: .relaxed) }

    func drop(_ lines: Int = 1) {
        dropped.add(lines, ordering: .relaxed)
        Self.droppedLines.add(lines, ordering: .relaxed)
    }

    var isEmpty: Bool { targets.isEmpty }

    init(_ logTargets: [LogTarget], global: GlobalSettings, tag: String?) throws {
        var targets: [Target] = []
        for target in logTargets {
            switch target.destination {
            case .global:
                continue
            case .ring(let name):
                guard let ring = LogRing.named(name) else { throw ProxyStartError("log target 'ring@\(name)': no ring section named '\(name)'") }
                targets.append(Target(fd: -1, reconnectTo: nil, ring: ring, target))
            case .stdout, .stderr:
                // A descriptor of our own on the same file, non-blocking: a full pipe
                // drops lines instead of stalling an event loop (the process's own fd
                // keeps its blocking mode).
                let fd: Int32 = target.destination == .stdout ? 1 : 2
                let own = Glibc.open("/proc/self/fd/\(fd)", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_APPEND)
                targets.append(Target(fd: own >= 0 ? own : fd, reconnectTo: nil, target))
            case .address(let spec):
                let address = try Self.address(spec)
                if case .unix = spec.kind {
                    // A syslog daemon not running yet is not a reason to refuse to start
                    // (Debian's stock configuration logs to /dev/log): lines are dropped
                    // until it is there.
                    targets.append(Target(fd: (try? Self.connect(address)) ?? -1, reconnectTo: address, batched: true, target))
                } else {
                    targets.append(Target(fd: try Self.connect(address), reconnectTo: nil, batched: true, target))
                }
            }
        }
        self.targets = targets
        self.tag = tag ?? global.logTag ?? "fulcrum"
        self.textLimit = max(1, global.logLineLimit - 1)
        // `log-send-hostname` without a name sends the system's.
        self.hostname = global.logSendHostname.map { $0.isEmpty ? String(decoding: LogFormatRenderer.hostname, as: UTF8.self) : $0 }
        self.pid = getpid()
    }

    static func address(_ spec: AddressSpec) throws -> SocketAddress {
        switch spec.kind {
        case .inet(let host, _):
            return try SocketAddress.makeAddressResolvingHost(host.isEmpty ? "127.0.0.1" : host, port: spec.ports?.lowerBound ?? 514)
        case .unix(let path):
            return try SocketAddress(unixDomainSocketPath: path)
        default:
            throw ProxyStartError("log target '\(spec)' is not supported")
        }
    }

    /// A non-blocking datagram socket connected to `address`.
    static func connect(_ address: SocketAddress) throws -> Int32 {
        let fd = socket(address.protocol.rawValue, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProxyStartError("log target \(address): socket(): \(String(cString: strerror(errno)))") }
        let rc = address.withSockAddr { Glibc.connect(fd, $0, socklen_t($1)) }
        if rc != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ProxyStartError("log target \(address): \(reason)")
        }
        return fd
    }

    /// Sends `message` at `level` (0 emerg ... 7 debug) to every target that takes it.
    func log(level: Int, _ message: [UInt8]) {
        guard !targets.isEmpty else { return }
        let message = message.count > textLimit ? Array(message.prefix(textLimit)) : message
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        #if os(Linux)
        let batch = LogBatch.current
        #endif
        for target in targets where level <= target.maxLevel && target.takesNext() {
            if let ring = target.ring {
                ring.append(SyslogFrame.frame(message, format: target.format, facility: target.facility, level: max(level, target.minLevel), tag: tag, pid: pid,
                                              hostname: hostname, seconds: Int(now.tv_sec), microseconds: Int(now.tv_nsec / 1000), maxLength: target.length,
                                              newline: false))
                continue
            }
            #if os(Linux)
            if target.batched, let batch {
                batch.append(self, target) { out in
                    SyslogFrame.frame(message, format: target.format, facility: target.facility, level: max(level, target.minLevel), tag: tag, pid: pid,
                                      hostname: hostname, seconds: Int(now.tv_sec), microseconds: Int(now.tv_nsec / 1000),
                                      maxLength: target.length, into: &out)
                }
                continue
            }
            #endif
            guard let fd = target.descriptor(now: Int(now.tv_sec)) else {
                drop()
                continue
            }
            let line = SyslogFrame.frame(message, format: target.format, facility: target.facility, level: max(level, target.minLevel), tag: tag, pid: pid,
                                         hostname: hostname, seconds: Int(now.tv_sec), microseconds: Int(now.tv_nsec / 1000), maxLength: target.length)
            let sent = line.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            guard sent < 0 else { continue }
            let error = errno
            if error == ENOTSOCK {
                // stdout/stderr: a file or a pipe, written without blocking.
                let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written < 0 { drop() }
                continue
            }
            drop()
            if error == ECONNREFUSED || error == ENOTCONN || error == ECONNRESET || error == EPIPE {
                target.disconnect(fd)
            }
        }
    }
}
