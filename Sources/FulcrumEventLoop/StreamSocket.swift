#if os(Linux)
import CFulcrumLinux
import Glibc
import NIOCore

/// A connected (or connecting) TCP or Unix stream socket on an `EpollEventLoop`.
///
/// The descriptor is registered once, edge-triggered, for input, output and the peer's
/// shutdown: no `epoll_ctl` follows, whatever the owner reads or writes, and closing
/// takes it out of the set. Readiness is remembered here instead: input seen and not
/// yet read waits until the owner reads again; a write the kernel could not take
/// whole waits for the next output edge. A short read or write means the kernel's
/// queue was emptied or filled, so no call is spent to hear `EAGAIN`.
///
/// Bytes are read into the loop's shared buffer and written straight from the owner's
/// buffers (`writev` for several); only what the kernel refuses is queued.
public final class StreamSocket: ReadinessHandler {
    public let fd: CInt
    public unowned let loop: EpollEventLoop
    /// Told what happens; the socket lets it go when it closes.
    public var delegate: (any StreamSocketDelegate)?
    /// The peer's address, as the listener or the connecting code knew it.
    public let peer: SocketAddress?

    private var registration: EpollEventLoop.Registration?
    public private(set) var isConnecting: Bool
    public private(set) var isClosed = false
    public private(set) var inputEnded = false
    /// False while the owner wants no input (backpressure): input waits in the kernel.
    public private(set) var isReading = true
    private var readable = false
    /// The peer's end (or an error) was reported: the bytes still waiting are followed
    /// by it, and no new edge will come, so a short read does not stop reading.
    private var endReported = false
    private var readScheduled = false
    private var writable = true
    private var pending: [ByteBuffer] = []
    /// Bytes queued because the kernel would not take them yet.
    public private(set) var pendingBytes = 0
    /// A write came back short: the owner hears `socketDrained` once the queue empties.
    private var waitedForOutput = false
    private var closeWhenDrained = false
    /// A write failed with this errno; the socket fails once its input is read.
    private var outputError: CInt = 0
    private var shutdownWhenDrained = false
    /// The most a single read takes (a head-sized read for idle clients keeps fewer
    /// bytes of other requests behind it).
    public var readLimit = Int.max

    /// Takes `fd` (connected or connecting, non-blocking) onto `loop`: on the loop's
    /// thread only. The socket owns the descriptor from here, and closes it on failure.
    ///
    /// `registered: false` leaves the descriptor out of the epoll set until `watch`: a
    /// connection just accepted usually has its first bytes waiting already, and
    /// reading them at once (`readFirst`) saves a turn of the loop.
    public init(fd: CInt, loop: EpollEventLoop, peer: SocketAddress?, connecting: Bool = false,
                registered: Bool = true, delegate: (any StreamSocketDelegate)?) throws {
        self.fd = fd
        self.loop = loop
        self.peer = peer
        self.isConnecting = connecting
        self.delegate = delegate
        guard registered else { return }
        do {
            registration = try loop.register(fd, for: Readiness.watched, edgeTriggered: true, handler: self)
        } catch {
            isClosed = true
            Glibc.close(fd)
            throw error
        }
    }

    /// Reads what is there now and stays out of the epoll set until the owner needs an
    /// event: it calls `watch`, resumes reading after a pause, or a write leaves bytes
    /// for later. A connection whose request came whole in its first read and whose
    /// response is written whole, then closed, never joins the set, as in HAProxy (an
    /// `epoll_ctl` and the kernel's bookkeeping for it saved per connection). Meanwhile
    /// nothing the peer does is seen: the owner must not need to know then.
    public func readFirst() {
        guard registration == nil, !isClosed else { return }
        readable = true
        if isReading { readAvailable() }
        guard !isClosed else { return }
        registrationDeferred = true
    }

    /// Joins the loop's epoll set, if not in it yet (after `readFirst`, or made with
    /// `registered: false`). What is already readable or writable is reported at once.
    public func watch() {
        guard registration == nil, !isClosed else { return }
        registrationDeferred = false
        do {
            registration = try loop.register(fd, for: Readiness.watched, edgeTriggered: true, handler: self)
        } catch {
            fail((error as? IOError)?.errnoCode ?? EBADF, "epoll_ctl")
        }
    }

    /// Out of the epoll set after `readFirst` until an event is needed.
    private var registrationDeferred = false

    // MARK: Readiness

    public func ready(_ events: Readiness) {
        if isClosed { return }
        if events.contains(.error) && (isConnecting || !isReading || inputEnded || !events.contains(.input)) {
            // An error the owner would not hear about while it reads nothing.
            let code = fulcrum_socket_error(fd)
            if code != 0 {
                fail(code, isConnecting ? "connect" : "socket")
                return
            }
        }
        if events.contains(.output) && outputError == 0 {
            writable = true
            if isConnecting {
                isConnecting = false
                delegate?.socketConnected(self)
                if isClosed { return }
            }
            if !pending.isEmpty || shutdownWhenDrained || closeWhenDrained {
                flushPending()
                if isClosed { return }
            }
        }
        if !events.isDisjoint(with: Readiness.readable) {
            readable = true
            if !events.isDisjoint(with: Readiness.ending) { endReported = true }
            if isReading { readAvailable() }
        }
    }

    // MARK: Reading

    /// Stops reading: input waits in the kernel until `resumeReading`.
    public func pauseReading() {
        isReading = false
    }

    /// Reads again; input that came meanwhile is read after the current event.
    public func resumeReading() {
        guard !isReading else { return }
        isReading = true
        if registrationDeferred { watch() }
        scheduleRead()
    }

    private func scheduleRead() {
        guard readable, !readScheduled, !isClosed, !inputEnded else { return }
        readScheduled = true
        loop.executeOnLoop { [self] in
            readScheduled = false
            if isReading && !isClosed { readAvailable() }
        }
    }

    /// Reads until the kernel's queue is empty, at most a few buffers in a row so that
    /// one busy socket does not hold the loop.
    private func readAvailable() {
        var rounds = 0
        while readable && isReading && !isClosed && !inputEnded {
            if rounds == 4 {
                scheduleRead()
                return
            }
            rounds += 1
            var result = 0
            var code: CInt = 0
            var buffer = loop.takeReadBuffer()
            let limit = readLimit
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { space in
                // `recv`, not `read`: a socket call skips the file layer's checks and
                // notifications, which `read` pays on every call.
                result = Glibc.recv(fd, space.baseAddress, min(space.count, limit), 0)
                if result < 0 { code = errno }
                return max(result, 0)
            }
            if result > 0 {
                if result < min(buffer.capacity, limit) && !endReported { readable = false }
                delegate?.socketRead(self, buffer)
                loop.returnReadBuffer(buffer)
            } else if result == 0 {
                loop.returnReadBuffer(buffer)
                readable = false
                inputEnded = true
                delegate?.socketInputEnded(self)
            } else {
                loop.returnReadBuffer(buffer)
                if code == EAGAIN || code == EWOULDBLOCK {
                    readable = false
                } else if code != EINTR {
                    fail(code, "recv")
                }
            }
        }
    }

    // MARK: Writing

    /// Sends `bytes` after what is queued; what the kernel does not take at once is
    /// queued and sent when it can.
    ///
    /// On a socket still connecting the bytes are tried at once all the same: on
    /// loopback the handshake is usually over already, and a write that goes through
    /// says the connection is established (`isConnecting` turns false, without
    /// `socketConnected`); one the kernel refuses with `EAGAIN` waits for the connection.
    public func write(_ bytes: ByteBuffer) {
        guard !isClosed, outputError == 0, bytes.readableBytes > 0 else { return }
        if pending.isEmpty && writable {
            let written = send(bytes)
            if written == bytes.readableBytes || isClosed { return }
            pending.append(bytes.getSlice(at: bytes.readerIndex + written, length: bytes.readableBytes - written)!)
            pendingBytes += bytes.readableBytes - written
            compactPending()
            return
        }
        pending.append(bytes)
        pendingBytes += bytes.readableBytes
        if writable { flushPending() } else { compactPending() }
    }

    /// Queues `bytes` without writing them: `flush` sends all that is queued in one
    /// call (a head, then body slices, written together).
    public func enqueue(_ bytes: ByteBuffer) {
        guard !isClosed, outputError == 0, bytes.readableBytes > 0 else { return }
        // A response is a head and a body: room for a few at once, not grown one by one.
        if pending.capacity == 0 { pending.reserveCapacity(4) }
        pending.append(bytes)
        pendingBytes += bytes.readableBytes
    }

    /// Writes what `enqueue` queued, as far as the kernel takes it.
    public func flush() {
        guard !pending.isEmpty else { return }
        if writable { flushPending() } else { compactPending() }
    }

    /// The storage the queued bytes keep alive (tests).
    var pendingStorage: Int { pending.reduce(0) { $0 + $1.storageCapacity } }

    /// Bytes that wait for the peer are copied out of larger buffers they are slices of
    /// (the loop's 64 KiB read buffer, mostly): a queue of small slices would otherwise
    /// keep one such buffer alive each, far beyond what the watermark counts.
    private func compactPending() {
        for k in pending.indices {
            let size = pending[k].readableBytes
            guard pending[k].storageCapacity >= 16384, size <= pending[k].storageCapacity / 4 else { continue }
            var copy = ByteBufferAllocator().buffer(capacity: size)
            copy.writeImmutableBuffer(pending[k])
            pending[k] = copy
        }
    }

    /// Fewer than `highWatermark` bytes wait for the peer: the owner may produce more.
    /// Past it, an owner stops reading what feeds this socket until `socketDrained`.
    public var isWritable: Bool { pendingBytes < Self.highWatermark }
    /// NIO's default high watermark for channels.
    public static let highWatermark = 64 * 1024

    /// Sends two buffers in one call (a head and the body bytes that came with it).
    public func write(_ first: ByteBuffer, _ second: ByteBuffer) {
        guard !isClosed, outputError == 0 else { return }
        if second.readableBytes == 0 { return write(first) }
        if first.readableBytes == 0 { return write(second) }
        pending.append(first)
        pending.append(second)
        pendingBytes += first.readableBytes + second.readableBytes
        if writable { flushPending() }
    }

    /// One `send` (cheaper than `write` on a socket, as `recv` is than `read`; and
    /// `MSG_NOSIGNAL` makes a reset peer an error, never a signal); returns the bytes
    /// taken (0 when the kernel took none).
    private func send(_ bytes: ByteBuffer) -> Int {
        let result = bytes.withUnsafeReadableBytes { Glibc.send(fd, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL)) }
        return wrote(result, of: bytes.readableBytes, code: result < 0 ? errno : 0, "send")
    }

    private func flushPending() {
        while writable && !pending.isEmpty && !isClosed {
            let written: Int
            if pending.count == 1 {
                written = send(pending[0])
            } else {
                written = sendVector()
            }
            if isClosed { return }
            consume(written)
        }
        guard pending.isEmpty else {
            compactPending()
            return
        }
        if closeWhenDrained {
            close()
            return
        }
        if shutdownWhenDrained {
            shutdownWhenDrained = false
            Glibc.shutdown(fd, CInt(SHUT_WR))
        }
        if waitedForOutput {
            waitedForOutput = false
            delegate?.socketDrained(self)
        }
    }

    /// One `sendmsg` (a `writev` on the socket layer) of the first queued buffers (at most 16), without allocating: the
    /// vector lives on the stack, and the buffers' bytes stay put while `pending` holds
    /// them, which it does across the call.
    private func sendVector() -> Int {
        let count = min(pending.count, 16)
        let (result, total, code): (Int, Int, CInt) = withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { vectors in
            var total = 0
            for k in 0..<count {
                let (base, length) = pending[k].withUnsafeReadableBytes { (UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count) }
                vectors[k] = iovec(iov_base: base, iov_len: length)
                total += length
            }
            var message = msghdr()
            message.msg_iov = vectors.baseAddress
            message.msg_iovlen = count
            let result = Glibc.sendmsg(fd, &message, CInt(MSG_NOSIGNAL))
            return (result, total, result < 0 ? errno : 0)
        }
        return wrote(result, of: total, code: code, "sendmsg")
    }

    /// What a `write` or `writev` of `total` bytes returned: the bytes taken (0 when
    /// none). A write that goes through says the connection is established; a short
    /// one or `EAGAIN` waits for the next output edge; any other error fails the output.
    private func wrote(_ result: Int, of total: Int, code: CInt, _ call: String) -> Int {
        if result >= 0 {
            isConnecting = false
            if result < total { blocked() }
            return result
        }
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR || code == ENOTCONN {
            blocked()
        } else {
            outputFailed(code, call)
        }
        return 0
    }

    /// The kernel's send queue is full: the next output edge says when it has room.
    private func blocked() {
        writable = false
        // The next output edge is needed now.
        if registrationDeferred { watch() }
        // Waiting for the connection is not waiting for the peer to drain.
        if !isConnecting { waitedForOutput = true }
    }

    /// Drops `count` written bytes from the front of the queue.
    private func consume(_ count: Int) {
        var left = count
        pendingBytes -= count
        var drop = 0
        while left > 0 && drop < pending.count {
            let size = pending[drop].readableBytes
            if size <= left {
                left -= size
                drop += 1
            } else {
                pending[drop].moveReaderIndex(forwardBy: left)
                left = 0
            }
        }
        if drop == pending.count {
            pending.removeAll(keepingCapacity: pending.capacity <= 4)
        } else if drop > 0 {
            pending.removeFirst(drop)
        }
    }

    // MARK: Closing

    /// Sends FIN once the queued bytes are written; input may still come.
    public func shutdownOutput() {
        guard !isClosed else { return }
        if pending.isEmpty && !isConnecting {
            Glibc.shutdown(fd, CInt(SHUT_WR))
        } else {
            shutdownWhenDrained = true
        }
    }

    /// Closes once the queued bytes are written (at once when none are).
    public func closeAfterWrites() {
        guard !isClosed else { return }
        if pending.isEmpty && !isConnecting {
            close()
        } else {
            closeWhenDrained = true
        }
    }

    /// Closes now; queued bytes are dropped. `keepDescriptorWatched` false (the usual
    /// case) relies on the close taking the socket out of the epoll set, which holds
    /// only when no duplicate of the descriptor is open.
    public func close(duplicated: Bool = false) {
        guard !isClosed else { return }
        isClosed = true
        if let registration { loop.deregister(registration, fd: duplicated ? fd : nil) }
        registration = nil
        Glibc.close(fd)
        pending = []
        pendingBytes = 0
        delegate = nil
    }

    /// Closes with a reset instead of FIN (SO_LINGER 0): for a connection abandoned
    /// mid-exchange, so that the peer does not take a truncated message for a whole one.
    public func abort() {
        guard !isClosed else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    /// A write failed (reset, broken pipe): what the peer sent before is still read
    /// (an early answer, say), after the current event, then the socket fails.
    private func outputFailed(_ code: CInt, _ call: String) {
        // A connection that never was (refused) has nothing to read.
        if isConnecting {
            fail(code, "connect")
            return
        }
        writable = false
        pending = []
        pendingBytes = 0
        closeWhenDrained = false
        shutdownWhenDrained = false
        guard outputError == 0 else { return }
        outputError = code
        loop.executeOnLoop { [self] in
            guard !isClosed else { return }
            if isReading && !inputEnded {
                readable = true
                readAvailable()
            }
            if !isClosed { fail(outputError, call) }
        }
    }

    private func fail(_ code: CInt, _ call: String) {
        let delegate = self.delegate
        close()
        delegate?.socketFailed(self, error: IOError(errnoCode: code, reason: call))
    }
}
#endif
