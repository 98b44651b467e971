/// How an HTTP proxy treats persistent connections (`option http-keep-alive`,
/// `http-server-close`, `httpclose`). The last one written in a section wins.
public enum HTTPConnectionMode: String, Hashable, Sendable {
    case keepAlive = "http-keep-alive"
    case serverClose = "http-server-close"
    case close = "httpclose"
}
