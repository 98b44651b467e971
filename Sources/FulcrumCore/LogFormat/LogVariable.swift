/// The `%` variables of HAProxy's log-format language (configuration manual, section
/// 8.2.4). Knowing every name lets a misspelt variable be refused at load time.
public enum LogVariable: String, CaseIterable, Hashable, Sendable {
    case bytesRead = "B", captureRequestCookie = "CC", captureResponseCookie = "CS", hostname = "H"
    case method = "HM", path = "HP", pathOnly = "HPO", query = "HQ", uri = "HU", httpVersion = "HV"
    case uniqueID = "ID", status = "ST", gmtDate = "T", activeTime = "Ta", connectTime = "Tc", dataTime = "Td"
    case handshakeTime = "Th", idleTime = "Ti", localDate = "Tl", requestTime = "Tq", responseTime = "Tr"
    case timestamp = "Ts", totalTime = "Tt", queueTime = "Tw", bytesUploaded = "U"
    case activeConnections = "ac", backend = "b", backendConnections = "bc", backendIP = "bi", backendPort = "bp"
    case backendQueue = "bq", clientIP = "ci", clientPort = "cp", frontend = "f", frontendConnections = "fc"
    case frontendIP = "fi", frontendPort = "fp", frontendTransport = "ft", capturedRequestHeaders = "hr"
    case capturedRequestHeaderList = "hrl", capturedResponseHeaders = "hs", capturedResponseHeaderList = "hsl"
    case logCounter = "lc", milliseconds = "ms", pid = "pid", requestLine = "r", retries = "rc", requestCounter = "rt"
    case server = "s", serverConnections = "sc", serverIP = "si", serverPort = "sp", serverQueue = "sq"
    case sslCipher = "sslc", sslVersion = "sslv", date = "t", requestDate = "tr", requestDateGMT = "trg"
    case requestDateLocal = "trl", terminationState = "ts", terminationStateWithCookies = "tsc"
    /// `%TR`: the time to receive the whole request head; `%Tu`: the total time seen by
    /// the user (`%Tt` less the idle time before the request).
    case requestHeadTime = "TR", userTime = "Tu"
    /// `%{+X}o`: not a value, it sets flags for every variable that follows.
    case optionSetter = "o"

    /// Variables HAProxy 2.6 refuses in a `mode tcp` proxy's format ("reserved for HTTP
    /// mode"); the others print `-` or 0 there.
    public var needsHTTP: Bool {
        switch self {
        case .captureRequestCookie, .captureResponseCookie, .method, .path, .pathOnly, .query, .uri, .httpVersion,
             .activeTime, .idleTime, .requestTime, .requestHeadTime, .responseTime, .requestLine,
             .requestDate, .requestDateGMT, .requestDateLocal:
            return true
        default:
            return false
        }
    }
}
