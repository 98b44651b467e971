/// The boolean `option` flags of a proxy, and the few options that carry arguments.
public struct ProxyOptions: Hashable, Sendable {
    public var httpLog = false
    public var httpLogCLF = false
    public var tcpLog = false
    public var dontLogNull = false
    public var logSeparateErrors = false
    public var logHealthChecks = false
    public var tcpCheck = false
    public var redispatch = false
    public var abortOnClose = false
    public var spliceAuto = false
    public var httpBufferRequest = false
    public var forwardFor: ForwardForOption? = nil
    public var httpCheck: HTTPCheckOption? = nil
    public var httpConnectionMode: HTTPConnectionMode = .keepAlive
    /// Other recognised options, kept by name so later features can read them.
    public var others: [String: Bool] = [:]

    /// Any of `option splice-auto`, `splice-request`, `splice-response`: Fulcrum splices
    /// both directions of a TCP-mode connection when one of them is set.
    public var splices: Bool {
        spliceAuto || others["splice-request"] == true || others["splice-response"] == true
    }

    public init() {}
}
