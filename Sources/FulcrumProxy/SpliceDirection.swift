#if os(Linux)
import CFulcrumLinux
import Glibc

/// One direction of a spliced connection: bytes move from the source socket into a
/// pipe and from the pipe into the destination socket, never through user space.
/// Bytes Fulcrum already read before the handover (content inspection, or what arrived
/// with the connection) are written first, from memory.
struct SpliceDirection {
    /// Why a direction stopped for good.
    enum Failure: Error {
        /// Reading the source failed (a reset, most often).
        case input(CInt)
        /// Writing the destination failed (a reset or a closed peer).
        case output(CInt)
    }

    /// What one round moved, for the idle timers of each side.
    struct Moved {
        var read = false
        var wrote = false
        /// Stopped at the budget while bytes could still move.
        var more = false
    }

    private var pipeRead: CInt = -1
    private var pipeWrite: CInt = -1
    /// Bytes in the pipe, not yet written to the destination.
    private var inPipe = 0
    private var pending: [UInt8]
    private var pendingOffset = 0
    /// Bytes read from the source, the held ones included (for the log and stats).
    private(set) var bytes: Int
    /// End of input read on the source.
    private(set) var inputClosed: Bool
    /// The destination's output was shut down after the last byte.
    private(set) var outputShut = false
    /// Whether the source may have bytes (or its end) to read: set by its readable
    /// events, cleared when a read with an empty pipe finds nothing. epoll reports a
    /// socket's whole readiness with any of its events, so without this an event for
    /// the other direction would cost a `splice` that can only say "nothing".
    var sourceReadable = true

    /// The pipe's capacity: how much the relay asks the kernel for per call.
    private var pipeCapacity = 65536

    init(pending: [UInt8], inputClosed: Bool) {
        self.pending = pending
        self.bytes = pending.count
        self.inputClosed = inputClosed
    }

    /// Opens the pipe, of `size` bytes when given (`tune.pipesize`; the kernel rounds
    /// it up to pages and may refuse it); false when the process is out of descriptors.
    mutating func openPipe(size: Int?) -> Bool {
        var fds: (CInt, CInt) = (-1, -1)
        let result = withUnsafeMutableBytes(of: &fds) { fulcrum_pipe($0.baseAddress!.assumingMemoryBound(to: CInt.self)) }
        guard result == 0 else { return false }
        (pipeRead, pipeWrite) = fds
        if let size {
            let granted = fulcrum_set_pipe_size(pipeWrite, CInt(clamping: size))
            if granted > 0 { pipeCapacity = Int(granted) }
        }
        return true
    }

    mutating func closePipe() {
        if pipeRead >= 0 { close(pipeRead) }
        if pipeWrite >= 0 { close(pipeWrite) }
        (pipeRead, pipeWrite) = (-1, -1)
    }

    /// Moves what can move now without blocking; the connection's descriptors are
    /// edge-triggered, so this runs until the source has nothing or the destination
    /// takes nothing more. Once the source has ended and everything is written, the
    /// destination's output is shut down.
    mutating func pump(from source: CInt, to destination: CInt, budget: Int) throws(Failure) -> Moved {
        var moved = Moved()
        var spent = 0
        while pendingOffset < pending.count {
            let n = pending.withUnsafeBytes { write(destination, $0.baseAddress! + pendingOffset, $0.count - pendingOffset) }
            if n > 0 {
                pendingOffset += n
                moved.wrote = true
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN {
                return moved
            } else {
                throw .output(errno)
            }
        }
        if !pending.isEmpty { pending = [] }
        while true {
            var progressed = false
            if !inputClosed && inPipe < pipeCapacity && sourceReadable {
                let n = fulcrum_splice(source, pipeWrite, UInt(pipeCapacity - inPipe))
                if n > 0 {
                    inPipe += n
                    bytes += n
                    spent += n
                    moved.read = true
                    progressed = true
                } else if n == 0 {
                    inputClosed = true
                    progressed = true
                } else if errno == EINTR {
                    progressed = true
                } else if errno != EAGAIN {
                    throw .input(errno)
                } else if inPipe == 0 {
                    // An empty pipe: the source has nothing now; its next readable
                    // event says when it has.
                    sourceReadable = false
                }
                // EAGAIN with bytes in the pipe: nothing to read, or the pipe is full
                // (the kernel does not say which); draining the pipe below tells them
                // apart next round.
            }
            if inPipe > 0 {
                let n = fulcrum_splice(pipeRead, destination, UInt(inPipe))
                if n > 0 {
                    inPipe -= n
                    moved.wrote = true
                    progressed = true
                } else if n < 0 && errno == EINTR {
                    progressed = true
                } else if n < 0 && errno != EAGAIN {
                    throw .output(errno)
                }
            }
            if !progressed { break }
            if spent >= budget {
                moved.more = true
                break
            }
        }
        if inputClosed && inPipe == 0 && !outputShut {
            outputShut = true
            _ = shutdown(destination, CInt(SHUT_WR))
        }
        return moved
    }
}
#endif
