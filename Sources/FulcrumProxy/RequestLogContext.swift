import NIOCore
import Synchronization

/// What a log-format string can refer to for one request (HTTP) or connection (TCP):
/// gathered as the session goes, read when a unique ID, a header value or a log line
/// is rendered. Moments are event-loop clock readings; the two dates are wall clock.
struct RequestLogContext {
    var clientAddress: SocketAddress?
    var frontendAddress: SocketAddress?
    var frontendName: String
    var backendName: String = "-"
    var serverName: String = "<NOSRV>"
    /// Accept date of the connection (wall clock), for `%t`, `%Ts`, `%ms`.
    var acceptSeconds: Int = 0
    var acceptMilliseconds: Int = 0
    /// `%rt`: HAProxy's stream number, taken when the connection is accepted and then
    /// by each later request on it; -1 until taken.
    var requestCounter: Int = -1
    /// `%lc`: how many lines the frontend logged before this one.
    var logCounter = 0
    var uniqueID: [UInt8] = []

    // Moments, for the timers (8 bytes each, not 16: see PackedDeadline).
    var accepted: NIODeadline = .uptimeNanoseconds(0)
    @PackedDeadline var requestStarted: NIODeadline? = nil
    @PackedDeadline var headReceived: NIODeadline? = nil
    @PackedDeadline var queueStarted: NIODeadline? = nil
    @PackedDeadline var queueEnded: NIODeadline? = nil
    @PackedDeadline var connectStarted: NIODeadline? = nil
    @PackedDeadline var connected: NIODeadline? = nil
    @PackedDeadline var responseHeadReceived: NIODeadline? = nil
    @PackedDeadline var ended: NIODeadline? = nil

    /// `capture request header` / `capture response header` values, in order (nil: the
    /// header was absent).
    var requestCaptures: [[UInt8]?] = []
    var responseCaptures: [[UInt8]?] = []
    /// `capture cookie`: the request's cookie (`%CC`) and the server's (`%CS`).
    var requestCookie: [UInt8]?
    var responseCookie: [UInt8]?
    /// The server connection's own address (`%bi:%bp`) and the server's (`%si:%sp`).
    var serverLocalAddress: SocketAddress?
    var serverAddress: SocketAddress?
    /// The request line (`%r`); nil for a request that could not be parsed (`<BADREQ>`).
    var requestLine: [UInt8]?
    /// Connection counts sampled when the line is written.
    var activeConnections = 0
    var frontendConnections = 0
    var backendConnections = 0
    var serverConnections = 0
    var backendQueue = 0
    /// `%sq`: requests wait in the backend's queue, never in a server's.
    var serverQueue: Int { 0 }

    /// Bytes sent to the client (`%B`) and received from it (`%U`).
    var bytesOut = 0
    var bytesIn = 0
    var retries = 0
    var processID: Int32 = 0
    // The one-byte fields follow `status` (9 bytes): they fill its padding.
    var status: Int?
    /// False for a TCP connection (`%ST` is 0 there, `%Td` counts from the connect).
    var isHTTP = true
    /// `%rc` prints a `+` once the request went to another server (`option redispatch`).
    var redispatched = false
    /// `%tsc`'s last two characters, for a backend with a persistence cookie (`-`
    /// otherwise): the request's cookie (N none, I invalid, D its server is down, V
    /// valid), and what became of the server's (N nothing, I inserted, R rewritten, D
    /// deleted).
    var cookieState = UInt8(ascii: "-")
    var setCookieState = UInt8(ascii: "-")
    /// `%ts`: who ended the session (C client, S server, P proxy, R resource, I
    /// internal, - normal) and in which phase (R request, Q queue, C connect, H
    /// headers, D data, L last bytes, - normal).
    var terminationCause: UInt8 = UInt8(ascii: "-")
    var terminationPhase: UInt8 = UInt8(ascii: "-")

    mutating func terminate(_ cause: Character, _ phase: Character) {
        guard terminationCause == UInt8(ascii: "-") else { return }
        // A request that never became one is logged as a 400, as HAProxy does.
        if phase == "R" && status == nil && requestLine == nil { status = 400 }
        terminationCause = cause.asciiValue ?? UInt8(ascii: "-")
        terminationPhase = phase.asciiValue ?? UInt8(ascii: "-")
    }

    /// Ready for the next request on the same connection.
    mutating func nextRequest() {
        requestStarted = nil; headReceived = nil; queueStarted = nil; queueEnded = nil
        connectStarted = nil; connected = nil; responseHeadReceived = nil; ended = nil
        status = nil; bytesOut = 0; bytesIn = 0; retries = 0; redispatched = false; requestLine = nil
        serverLocalAddress = nil; serverAddress = nil; requestCounter = -1
        terminationCause = UInt8(ascii: "-"); terminationPhase = UInt8(ascii: "-")
        serverName = "<NOSRV>"; uniqueID = []; backendName = frontendName
        requestCaptures = []; responseCaptures = []; requestCookie = nil; responseCookie = nil
        cookieState = UInt8(ascii: "-"); setCookieState = UInt8(ascii: "-")
    }

    /// The stream counter `%rt` reads, shared by HTTP requests and TCP connections.
    static let streams = Atomic<Int>(0)

    mutating func takeStreamNumber() {
        if requestCounter < 0 { requestCounter = Self.streams.add(1, ordering: .relaxed).newValue - 1 }
    }

    /// `%Ti`: from the accept (or the end of the previous request) to the request's
    /// first byte; -1 when no byte came.
    var idleTime: Int { Self.millis(accepted, requestStarted) }

    /// Milliseconds between two moments, -1 when either is missing.
    /// The milliseconds between two moments, nil unless both happened.
    static func millisIfBoth(_ from: NIODeadline?, _ to: NIODeadline?) -> Int? {
        guard let from, let to else { return nil }
        return max(0, Int((to - from).nanoseconds / 1_000_000))
    }

    static func millis(_ from: NIODeadline?, _ to: NIODeadline?) -> Int {
        guard let from, let to else { return -1 }
        return max(0, Int((to - from).nanoseconds / 1_000_000))
    }
}
