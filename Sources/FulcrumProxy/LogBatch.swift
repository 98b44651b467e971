#if os(Linux)
import CFulcrumLinux
import FulcrumEventLoop
import Glibc

/// The log lines one of Fulcrum's event loops wrote during its current turn, sent
/// together when the turn ends: one `sendmmsg` per target for the turn's lines instead
/// of one `send` per line.
///
/// Measured with seed 000's `log-format` to a UDP syslog sink on this machine, each
/// line's `send` cost about 9 µs of system time, most of it waking the sink's reader.
/// Lines sent together wake it once. HAProxy sends one datagram per call; Fulcrum's
/// lines leave the same turn they are written in, in the same order, a few
/// microseconds later.
///
/// One batch per loop thread, found through a thread-local; only the thread that owns
/// it touches it. Sockets only: rings, files and pipes take their lines at once.
final class LogBatch {
    private struct Owner {
        let sink: LogSink
        let target: LogSink.Target
    }

    /// A turn that writes more than this sends what it has and starts again.
    static let maxLines = 256
    static let maxBytes = 256 * 1024

    private let loop: EpollEventLoop
    /// The lines, one after another.
    private var bytes: [UInt8] = []
    /// Where each line starts in `bytes` and its length, two numbers per line.
    private var spans: [UInt32] = []
    private var owners: [Owner] = []
    private var flushQueued = false
    private var flushTask: (() -> Void)?

    private init(loop: EpollEventLoop) {
        self.loop = loop
        bytes.reserveCapacity(16 * 1024)
        spans.reserveCapacity(2 * 64)
        owners.reserveCapacity(64)
        flushTask = { [unowned self] in
            flushQueued = false
            flush()
        }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The batch belongs to its thread: it goes when the thread ends.
        precondition(pthread_key_create(&key, { if let batch = $0 { Unmanaged<LogBatch>.fromOpaque(batch).release() } }) == 0, "pthread_key_create")
        return key
    }()

    /// The calling loop thread's batch; nil on a thread that is not one of Fulcrum's
    /// event loops (NIO's loops, the runtime API), whose lines go at once.
    static var current: LogBatch? {
        // The loop first: once it has stopped, nothing would flush a line left here.
        guard let loop = EpollEventLoop.current else { return nil }
        if let existing = pthread_getspecific(key) { return Unmanaged<LogBatch>.fromOpaque(existing).takeUnretainedValue() }
        let batch = LogBatch(loop: loop)
        pthread_setspecific(key, Unmanaged.passRetained(batch).toOpaque())
        return batch
    }

    /// Adds the line `frame` appends for `target`, to go at the end of the turn.
    func append(_ sink: LogSink, _ target: LogSink.Target, frame: (inout [UInt8]) -> Void) {
        let start = bytes.count
        frame(&bytes)
        spans.append(UInt32(start))
        spans.append(UInt32(bytes.count - start))
        owners.append(Owner(sink: sink, target: target))
        if owners.count >= Self.maxLines || bytes.count >= Self.maxBytes {
            flush()
        } else if !flushQueued, let flushTask {
            flushQueued = true
            loop.executeOnLoop(flushTask)
        }
    }

    /// Sends the lines gathered so far, each target's in one call (in order; targets
    /// whose lines alternate take one call per run).
    func flush() {
        var first = 0
        let count = owners.count
        while first < count {
            let target = owners[first].target
            var end = first + 1
            while end < count && owners[end].target === target { end += 1 }
            send(first..<end, to: target, sink: owners[first].sink)
            first = end
        }
        bytes.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        owners.removeAll(keepingCapacity: true)
    }

    /// Sends lines `range`, dropping (and counting) those the socket refuses: a full
    /// buffer drops the rest of the run, as one line at a time would have; a unix
    /// socket whose reader went away is connected again later.
    private func send(_ range: Range<Int>, to target: LogSink.Target, sink: LogSink) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        guard let fd = target.descriptor(now: Int(now.tv_sec)) else {
            sink.drop(range.count)
            return
        }
        var next = range.lowerBound
        while next < range.upperBound {
            let sent = bytes.withUnsafeBufferPointer { base in
                spans.withUnsafeBufferPointer { spans in
                    fulcrum_send_datagrams(fd, base.baseAddress, spans.baseAddress! + 2 * next, CInt(range.upperBound - next))
                }
            }
            if sent > 0 {
                next += Int(sent)
                continue
            }
            let error = errno
            if error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS {
                sink.drop(range.upperBound - next)
                return
            }
            if error == ECONNREFUSED || error == ENOTCONN || error == ECONNRESET || error == EPIPE, target.reconnectTo != nil {
                target.disconnect(fd)
                sink.drop(range.upperBound - next)
                return
            }
            // A UDP socket reports an ICMP error from an earlier datagram on the next
            // send: that line is lost, the following ones go.
            sink.drop(1)
            next += 1
        }
    }
}
#endif
