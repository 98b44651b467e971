import NIOCore
import Synchronization

/// What a log-format string can refer to for one request (HTTP) or connection (TCP):
/// gathered as the session goes, read when a unique ID, a header value or a log line
/// is rendered. Moments are event-loop clock readings; the accept date is wall clock.
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

    /// What only a log line reads: each of these is set only when the frontend logs, so
    /// they live in a side object made the first time one of them is set, and a
    /// connection of a frontend without a log does not carry their hundred bytes. The
    /// object stays for the connection's later requests (`nextRequest` clears it in
    /// place): a logged request does not allocate it again. Copied on write, so that the
    /// context stays a value.
    private final class Details {
        var requestCaptures: [[UInt8]?] = []
        var responseCaptures: [[UInt8]?] = []
        var requestCookie: [UInt8]?
        var responseCookie: [UInt8]?
        var serverLocalAddress: SocketAddress?
        var serverAddress: SocketAddress?
        var requestLine: [UInt8]?
        var logCounter = 0
        var activeConnections = 0
        var frontendConnections = 0
        var backendConnections = 0
        var serverConnections = 0
        var backendQueue = 0

        init() {}

        /// Every field: a copy made on write must read as the original.
        init(copying other: Details) {
            requestCaptures = other.requestCaptures
            responseCaptures = other.responseCaptures
            requestCookie = other.requestCookie
            responseCookie = other.responseCookie
            serverLocalAddress = other.serverLocalAddress
            serverAddress = other.serverAddress
            requestLine = other.requestLine
            logCounter = other.logCounter
            activeConnections = other.activeConnections
            frontendConnections = other.frontendConnections
            backendConnections = other.backendConnections
            serverConnections = other.serverConnections
            backendQueue = other.backendQueue
        }

        /// What belongs to one request; the counts are sampled again for each line.
        func clearRequest() {
            requestCaptures = []
            responseCaptures = []
            requestCookie = nil
            responseCookie = nil
            serverLocalAddress = nil
            serverAddress = nil
            requestLine = nil
        }
    }

    private var details: Details?

    init(frontendName: String) {
        self.frontendName = frontendName
    }

    /// The side object, made or copied so that this context alone holds it.
    private mutating func writableDetails() -> Details {
        if !isKnownUniquelyReferenced(&details) {
            details = details.map(Details.init(copying:)) ?? Details()
        }
        return details!
    }

    // Setting a field to its default makes no side object.

    /// `capture request header` / `capture response header` values, in order (nil: the
    /// header was absent). Changed in place: no copy of the list.
    var requestCaptures: [[UInt8]?] {
        get { details?.requestCaptures ?? [] }
        set { if !newValue.isEmpty || details != nil { writableDetails().requestCaptures = newValue } }
        _modify { yield &writableDetails().requestCaptures }
    }
    var responseCaptures: [[UInt8]?] {
        get { details?.responseCaptures ?? [] }
        set { if !newValue.isEmpty || details != nil { writableDetails().responseCaptures = newValue } }
        _modify { yield &writableDetails().responseCaptures }
    }
    /// `capture cookie`: the request's cookie (`%CC`) and the server's (`%CS`).
    var requestCookie: [UInt8]? {
        get { details?.requestCookie }
        set { if newValue != nil || details != nil { writableDetails().requestCookie = newValue } }
    }
    var responseCookie: [UInt8]? {
        get { details?.responseCookie }
        set { if newValue != nil || details != nil { writableDetails().responseCookie = newValue } }
    }
    /// The server connection's own address (`%bi:%bp`) and the server's (`%si:%sp`).
    var serverLocalAddress: SocketAddress? {
        get { details?.serverLocalAddress }
        set { if newValue != nil || details != nil { writableDetails().serverLocalAddress = newValue } }
    }
    var serverAddress: SocketAddress? {
        get { details?.serverAddress }
        set { if newValue != nil || details != nil { writableDetails().serverAddress = newValue } }
    }
    /// The request line (`%r`); nil for a request that could not be parsed (`<BADREQ>`).
    var requestLine: [UInt8]? {
        get { details?.requestLine }
        set { if newValue != nil || details != nil { writableDetails().requestLine = newValue } }
    }
    /// `%lc`: how many lines the frontend logged before this one.
    var logCounter: Int {
        get { details?.logCounter ?? 0 }
        set { if newValue != 0 || details != nil { writableDetails().logCounter = newValue } }
    }
    /// Connection counts sampled when the line is written.
    var activeConnections: Int {
        get { details?.activeConnections ?? 0 }
        set { if newValue != 0 || details != nil { writableDetails().activeConnections = newValue } }
    }
    var frontendConnections: Int {
        get { details?.frontendConnections ?? 0 }
        set { if newValue != 0 || details != nil { writableDetails().frontendConnections = newValue } }
    }
    var backendConnections: Int {
        get { details?.backendConnections ?? 0 }
        set { if newValue != 0 || details != nil { writableDetails().backendConnections = newValue } }
    }
    var serverConnections: Int {
        get { details?.serverConnections ?? 0 }
        set { if newValue != 0 || details != nil { writableDetails().serverConnections = newValue } }
    }
    var backendQueue: Int {
        get { details?.backendQueue ?? 0 }
        set { if newValue != 0 || details != nil { writableDetails().backendQueue = newValue } }
    }
    /// `%sq`: requests wait in the backend's queue, never in a server's.
    var serverQueue: Int { 0 }

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
        status = nil; bytesOut = 0; bytesIn = 0; retries = 0; redispatched = false; requestCounter = -1
        terminationCause = UInt8(ascii: "-"); terminationPhase = UInt8(ascii: "-")
        serverName = "<NOSRV>"; uniqueID = []; backendName = frontendName
        cookieState = UInt8(ascii: "-"); setCookieState = UInt8(ascii: "-")
        if details != nil { writableDetails().clearRequest() }
    }

    /// Ready for the next request when no line is written: only the moments and the
    /// retry count, which `show stat` reads, start again (from `now`).
    mutating func nextTimings(_ now: NIODeadline) {
        requestStarted = nil; headReceived = nil; queueStarted = nil; queueEnded = nil
        connectStarted = nil; connected = nil; responseHeadReceived = nil; ended = nil
        retries = 0; redispatched = false
        accepted = now
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
