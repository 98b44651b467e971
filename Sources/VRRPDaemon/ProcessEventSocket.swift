#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VRRP

/// The kernel's process events, as keepalived's `track_process` uses them: a netlink
/// socket on the proc connector (NETLINK_CONNECTOR, CN_IDX_PROC) subscribed with
/// PROC_CN_MCAST_LISTEN, which then receives a message for every fork, exec, rename
/// and exit on the machine. Subscribing needs CAP_NET_ADMIN, the initial PID and user
/// namespaces, and a socket in the initial network namespace (the connector exists
/// only there): a daemon started in another network namespace opens its socket in the
/// initial one (with CAP_SYS_ADMIN) and stays where it is.
final class ProcessEventSocket {
    /// What the daemon needs from one message; thread events are left out.
    enum Event: Equatable, Sendable {
        /// A process (not a thread) was created by `parent`.
        case fork(parent: pid_t, child: pid_t)
        /// A process ran a new program.
        case exec(pid_t)
        /// A process changed its name (prctl PR_SET_NAME, /proc/PID/comm).
        case comm(pid_t, String)
        /// A process ended (it may stay a zombie until reaped).
        case exit(pid_t)
        /// The answer to a subscription: the request's `ack` number plus one (the
        /// sequence number is the kernel's own) and an errno (0: done).
        case ack(UInt32, error: Int32)
    }

    /// Why the events cannot be had; the daemon then scans /proc instead.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
        var code: Int32 = 0
    }

    static let netlinkConnector: Int32 = 11
    static let cnIdxProc: UInt32 = 1, cnValProc: UInt32 = 1
    static let mcastListen: UInt32 = 1, mcastIgnore: UInt32 = 2
    static let nlmsgNoop: UInt16 = 1, nlmsgError: UInt16 = 2, nlmsgDone: UInt16 = 3
    static let eventNone: UInt32 = 0, eventFork: UInt32 = 1, eventExec: UInt32 = 2
    static let eventComm: UInt32 = 0x200, eventExit: UInt32 = 0x8000_0000
    static let cloneNewNet: Int32 = 0x4000_0000
    /// nlmsghdr (16 bytes), cn_msg (20), then proc_event: what, cpu, timestamp (16) and
    /// the event's data.
    static let eventOffset = 16 + 20, dataOffset = 16 + 20 + 16

    let fd: Int32
    /// Opened in the initial network namespace, this process running in another.
    let initialNamespace: Bool
    private(set) var receiveBuffer: Int32 = 0
    /// Whether the kernel was asked to listen: only then is it told to stop (older
    /// kernels count listeners machine-wide and would drop below another's).
    private var subscribed = false

    private init(fd: Int32, initialNamespace: Bool) {
        self.fd = fd
        self.initialNamespace = initialNamespace
    }

    deinit {
        if subscribed {
            let ignore = Self.subscription(listen: false, ack: 0)
            _ = ignore.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }
        close(fd)
    }

    // MARK: - opening

    /// Subscribed, with the answer read: events from here on are queued on `fd`.
    static func open() throws -> ProcessEventSocket {
        do {
            return try open(namespace: nil)
        } catch let e as Unavailable where e.code == ECONNREFUSED {
            // This network namespace has no connector. The initial one is that of pid 1,
            // or of kthreadd (pid 2, never moved) where pid 1's cannot be opened.
            var last = e
            for path in ["/proc/1/ns/net", "/proc/2/ns/net"] {
                do { return try open(namespace: path) } catch let e as Unavailable { last = e }
            }
            throw Unavailable(description: "this network namespace has no process connector, and the initial one's cannot be used: \(last)", code: last.code)
        }
    }

    private static func open(namespace path: String?) throws -> ProcessEventSocket {
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd: Int32
        if let path {
            let own = Glibc.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
            guard own >= 0 else { throw unavailable("open /proc/thread-self/ns/net") }
            defer { close(own) }
            let target = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            guard target >= 0 else { throw unavailable("open \(path)") }
            defer { close(target) }
            guard setNamespace(target, cloneNewNet) == 0 else { throw unavailable("setns \(path)") }
            fd = socket(AF_NETLINK, type, netlinkConnector)
            let saved = errno
            // A socket keeps the namespace it was made in; this thread goes back at once.
            guard setNamespace(own, cloneNewNet) == 0 else { fatalError("cannot return to this process's network namespace: \(SystemError("setns"))") }
            guard fd >= 0 else { throw unavailable("socket(NETLINK_CONNECTOR) in \(path)", code: saved) }
        } else {
            fd = socket(AF_NETLINK, type, netlinkConnector)
            guard fd >= 0 else { throw unavailable("socket(NETLINK_CONNECTOR)") }
        }
        let s = ProcessEventSocket(fd: fd, initialNamespace: path != nil)
        guard RouteNetlink.bind(fd, groups: cnIdxProc) else { throw unavailable("bind(CN_IDX_PROC)") }
        // Room for bursts of forks; more after an overrun.
        s.setReceiveBuffer(1 << 20)
        // Every listener sees every answer: ours is told by this number.
        let cookie = UInt32(truncatingIfNeeded: getpid()) & 0xff_ffff
        let message = subscription(listen: true, ack: cookie)
        guard message.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == message.count else {
            throw unavailable("PROC_CN_MCAST_LISTEN")
        }
        s.subscribed = true
        // The kernel answers at once; no answer means it ignored the request (it does
        // for callers outside the initial PID or user namespace).
        let deadline = MonotonicClock.now() + 500_000_000
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - MonotonicClock.now()
            guard left > 0 else { throw Unavailable(description: "the kernel did not answer the subscription (not in the initial PID namespace?)") }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, Int32((left + 999_999) / 1_000_000))
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR || errno == ENOBUFS { continue }
                throw unavailable("recv")
            }
            // Events queued before the answer predate the scan that follows: dropped.
            for case .ack(let answered, let error) in decode(Array(buffer[0..<n])) where answered == cookie + 1 {
                guard error == 0 else { throw unavailable("PROC_CN_MCAST_LISTEN", code: error) }
                return s
            }
        }
    }

    /// setns(2), which the C module does not declare (it is a GNU extension).
    private static func setNamespace(_ fd: Int32, _ type: Int32) -> Int32 {
        typealias SetNS = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "setns") else { errno = ENOSYS; return -1 }
        return unsafeBitCast(symbol, to: SetNS.self)(fd, type)
    }

    private static func unavailable(_ call: String, code: Int32 = errno) -> Unavailable {
        Unavailable(description: SystemError(call, code: code).description, code: code)
    }

    /// SO_RCVBUFFORCE (root may go past rmem_max), else SO_RCVBUF.
    func setReceiveBuffer(_ bytes: Int32) {
        if !setOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes) { setOption(fd, SOL_SOCKET, SO_RCVBUF, bytes) }
        var got: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &length) == 0 { receiveBuffer = got }
    }

    // MARK: - reading

    /// The queued events, at most `limit` messages (the caller comes back when more
    /// wait). `overrun`: the kernel dropped some (ENOBUFS), so counts must be rebuilt
    /// from /proc. `failure`: the socket is unusable.
    func read(limit: Int = 512) -> (events: [Event], overrun: Bool, failure: SystemError?) {
        var events: [Event] = []
        var overrun = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        var address = [UInt8](repeating: 0, count: 12)
        for _ in 0..<limit {
            var length = socklen_t(address.count)
            let n = buffer.withUnsafeMutableBytes { b in
                address.withUnsafeMutableBytes { a in
                    recvfrom(fd, b.baseAddress, b.count, 0, a.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
                }
            }
            if n < 0 {
                switch errno {
                case EINTR: continue
                case EAGAIN: return (events, overrun, nil)
                case ENOBUFS: overrun = true; continue
                default: return (events, overrun, SystemError("recv(proc connector)"))
                }
            }
            if n == 0 { break }
            // sockaddr_nl's port id: 0 is the kernel; anything else is not an event.
            let sender = address.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) }
            guard sender == 0 else { continue }
            events += buffer.withUnsafeBytes { Self.decode(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return (events, overrun, nil)
    }

    // MARK: - messages (pure)

    /// PROC_CN_MCAST_LISTEN or PROC_CN_MCAST_IGNORE, in host byte order as netlink is;
    /// the kernel's answer carries `ack` + 1.
    static func subscription(listen: Bool, ack: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v) { out += $0 } }
        put(UInt32(16 + 20 + 4)); put(nlmsgDone); put(UInt16(0)); put(UInt32(0)); put(UInt32(0))
        put(cnIdxProc); put(cnValProc); put(UInt32(0)); put(ack); put(UInt16(4)); put(UInt16(0))
        put(listen ? mcastListen : mcastIgnore)
        return out
    }

    static func decode(_ bytes: [UInt8]) -> [Event] {
        bytes.withUnsafeBytes { decode($0) }
    }

    /// The events in one datagram (netlink messages, each a cn_msg carrying a
    /// proc_event). Anything short, foreign or of another kind is skipped; so are
    /// events of threads other than a process's main one (their pid is not the tgid).
    static func decode(_ b: UnsafeRawBufferPointer) -> [Event] {
        func u32(_ at: Int) -> UInt32 { b.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
        func u16(_ at: Int) -> UInt16 { b.loadUnaligned(fromByteOffset: at, as: UInt16.self) }
        func i32(_ at: Int) -> Int32 { Int32(bitPattern: u32(at)) }
        var events: [Event] = []
        var offset = 0
        while offset + 16 <= b.count {
            let length = Int(u32(offset))
            let type = u16(offset + 4)
            guard length >= 16, offset + length <= b.count else { break }
            defer { offset += (length + 3) & ~3 }
            guard type != nlmsgNoop, type != nlmsgError, length >= eventOffset else { continue }
            let cn = offset + 16
            let ack = u32(cn + 12), dataLength = Int(u16(cn + 16))
            guard u32(cn) == cnIdxProc, u32(cn + 4) == cnValProc, dataLength >= 16, eventOffset + dataLength <= length else { continue }
            let what = u32(offset + eventOffset)
            let data = offset + dataOffset
            let room = offset + eventOffset + dataLength - data
            switch what {
            case eventNone where ack != 0 && room >= 4:
                events.append(.ack(ack, error: i32(data)))
            case eventFork where room >= 16:
                // parent pid, parent tgid, child pid, child tgid
                if i32(data + 8) == i32(data + 12) { events.append(.fork(parent: i32(data + 4), child: i32(data + 12))) }
            case eventExec where room >= 8:
                if i32(data) == i32(data + 4) { events.append(.exec(i32(data + 4))) }
            case eventComm where room >= 8 + 16:
                guard i32(data) == i32(data + 4) else { continue }
                let name = UnsafeRawBufferPointer(rebasing: b[(data + 8)..<(data + 24)]).prefix { $0 != 0 }
                events.append(.comm(i32(data + 4), String(decoding: name, as: UTF8.self)))
            case eventExit where room >= 8:
                if i32(data) == i32(data + 4) { events.append(.exit(i32(data + 4))) }
            default:
                break
            }
        }
        return events
    }
}
