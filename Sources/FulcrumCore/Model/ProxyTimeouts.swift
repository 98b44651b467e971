/// The `timeout` values of a proxy; `nil` means unset (HAProxy's "infinite").
public struct ProxyTimeouts: Hashable, Sendable {
    public var client: DurationValue?
    public var server: DurationValue?
    public var connect: DurationValue?
    public var check: DurationValue?
    public var queue: DurationValue?
    public var httpKeepAlive: DurationValue?
    public var httpRequest: DurationValue?
    public var tunnel: DurationValue?
    public var tarpit: DurationValue?
    public var clientFin: DurationValue?
    public var serverFin: DurationValue?

    public init() {}

    public static let names = ["client", "server", "connect", "check", "queue", "http-keep-alive", "http-request", "tunnel", "tarpit", "client-fin", "server-fin"]

    public subscript(name: String) -> DurationValue? {
        get {
            switch name {
            case "client": return client
            case "server": return server
            case "connect": return connect
            case "check": return check
            case "queue": return queue
            case "http-keep-alive": return httpKeepAlive
            case "http-request": return httpRequest
            case "tunnel": return tunnel
            case "tarpit": return tarpit
            case "client-fin": return clientFin
            case "server-fin": return serverFin
            default: return nil
            }
        }
        set {
            switch name {
            case "client": client = newValue
            case "server": server = newValue
            case "connect": connect = newValue
            case "check": check = newValue
            case "queue": queue = newValue
            case "http-keep-alive": httpKeepAlive = newValue
            case "http-request": httpRequest = newValue
            case "tunnel": tunnel = newValue
            case "tarpit": tarpit = newValue
            case "client-fin": clientFin = newValue
            case "server-fin": serverFin = newValue
            default: break
            }
        }
    }
}
