#if os(Linux)
import CFulcrumLinux
import Glibc
import NIOCore

/// A client connection and its server connection, relayed by the splice engine: the
/// two sockets, a direction each way, and the idle timers. Touched only on the
/// engine's thread once started.
final class SplicedConnection {
    let id: UInt64
    let client: CInt
    let server: CInt
    private var toServer: SpliceDirection
    private var toClient: SpliceDirection
    private let timeouts: SpliceTimeouts
    private var clientActive: Int64
    private var serverActive: Int64
    private let done: @Sendable (SpliceOutcome) -> Void

    init(id: UInt64, client: CInt, server: CInt, held: [UInt8], clientInputClosed: Bool, timeouts: SpliceTimeouts,
         done: @escaping @Sendable (SpliceOutcome) -> Void) {
        self.id = id
        self.client = client
        self.server = server
        self.toServer = SpliceDirection(pending: held, inputClosed: clientInputClosed)
        self.toClient = SpliceDirection(pending: [], inputClosed: false)
        self.timeouts = timeouts
        let now = Self.now()
        (clientActive, serverActive) = (now, now)
        self.done = done
    }

    /// Opens both pipes; false (with nothing left open) when descriptors ran out.
    func openPipes(size: Int?) -> Bool {
        guard toServer.openPipe(size: size) else { return false }
        guard toClient.openPipe(size: size) else {
            toServer.closePipe()
            return false
        }
        return true
    }

    /// Moved this far in one direction, a pump stops and the connection waits its turn
    /// behind the others of the engine (a bulk transfer whose source never runs dry
    /// would otherwise hold the thread).
    static let budget = 1 << 20

    /// Moves bytes both ways; the end of the connection when there is one. `more` says
    /// that a direction stopped at its budget with more to move: the engine pumps again
    /// soon (no edge will come for what is already there).
    /// `upward`/`downward`: the directions to move (an event on one socket can only
    /// let some of them move).
    func pump(up upward: Bool = true, down downward: Bool = true, more: inout Bool) -> SpliceOutcome.End? {
        var up = SpliceDirection.Moved(), down = SpliceDirection.Moved()
        if upward {
            do throws(SpliceDirection.Failure) {
                up = try toServer.pump(from: client, to: server, budget: Self.budget)
            } catch {
                if case .input = error { return .clientError } else { return .serverError }
            }
        }
        if downward {
            do throws(SpliceDirection.Failure) {
                down = try toClient.pump(from: server, to: client, budget: Self.budget)
            } catch {
                if case .input = error { return .serverError } else { return .clientError }
            }
        }
        more = up.more || down.more
        if up.read || up.wrote || down.read || down.wrote {
            let now = Self.now()
            if up.read || down.wrote { clientActive = now }
            if up.wrote || down.read { serverActive = now }
        }
        return toServer.outputShut && toClient.outputShut ? .finished : nil
    }

    /// A readable event (data, its end, an error) on the client (`server` false) or the
    /// server socket: the direction reading it reads again.
    func sourceReadable(server isServer: Bool) {
        if isServer { toClient.sourceReadable = true } else { toServer.sourceReadable = true }
    }

    /// After an error or hang-up event that moving bytes did not explain (a reset on a
    /// side whose input had already ended, with nothing to send it): that side's error.
    func pendingError() -> SpliceOutcome.End? {
        if fulcrum_socket_error(client) != 0 { return .clientError }
        if fulcrum_socket_error(server) != 0 { return .serverError }
        return nil
    }

    /// The earliest time a timer could fire, in nanoseconds on the monotonic clock;
    /// nil without timers.
    var deadline: Int64? {
        let client = clientLimit, server = serverLimit
        switch (client, server) {
        case (0, 0): return nil
        case (0, _): return serverActive + server
        case (_, 0): return clientActive + client
        default: return min(clientActive + client, serverActive + server)
        }
    }

    /// Which side's idle timer has run out at `now` (the client's first when both have).
    func expired(_ now: Int64) -> SpliceOutcome.End? {
        if clientLimit > 0 && now >= clientActive + clientLimit { return .clientTimeout }
        if serverLimit > 0 && now >= serverActive + serverLimit { return .serverTimeout }
        return nil
    }

    /// Once the client has stopped sending or has been sent its end, its half-closed
    /// timeout applies (as with NIO-relayed connections).
    private var clientLimit: Int64 {
        (toServer.inputClosed || toClient.outputShut) && timeouts.clientFin > 0 ? timeouts.clientFin : timeouts.client
    }

    private var serverLimit: Int64 {
        (toClient.inputClosed || toServer.outputShut) && timeouts.serverFin > 0 ? timeouts.serverFin : timeouts.server
    }

    /// Closes everything and reports.
    func finish(_ end: SpliceOutcome.End) {
        release()
        done(SpliceOutcome(end: end, toServer: toServer.bytes, toClient: toClient.bytes))
    }

    /// Closes the pipes and the engine's descriptors, without reporting (for a
    /// connection the engine never took).
    func release() {
        toServer.closePipe()
        toClient.closePipe()
        close(client)
        close(server)
    }

    static func now() -> Int64 {
        Int64(NIODeadline.now().uptimeNanoseconds)
    }
}
#endif
