import NIOCore

/// What a log-format string can refer to for one request: gathered as the session
/// goes, read when a unique ID, a header value or a log line is rendered.
struct RequestLogContext {
    var clientAddress: SocketAddress?
    var frontendAddress: SocketAddress?
    var frontendName: String
    var backendName: String = "-"
    var serverName: String = "<NOSRV>"
    /// Accept date of the connection (wall clock).
    var acceptSeconds: Int = 0
    var acceptMilliseconds: Int = 0
    var requestCounter: Int = 0
    var uniqueID: [UInt8] = []
    var processID: Int32 = 0
}
