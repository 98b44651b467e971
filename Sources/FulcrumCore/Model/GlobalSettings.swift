import HAProxyConfig

/// The `global` section: process-wide settings.
public struct GlobalSettings: Sendable {
    public var daemon = false
    /// `noreuseport`: listening sockets without SO_REUSEPORT.
    public var noReusePort = false
    /// `nosplice`: TCP-mode connections are relayed through user space even where an
    /// `option splice-*` asks for splice(2).
    public var noSplice = false
    /// `tune.pipesize`: the capacity asked of each splice pipe (the kernel's default,
    /// 64 KiB, when unset).
    public var tunePipesize: Int? = nil
    /// `maxpipes`: the most pipes spliced connections hold at once (two each); a
    /// connection beyond it is relayed through user space.
    public var maxPipes: Int? = nil
    /// `tune.park-idle-clients` (Fulcrum's own): how long a keep-alive HTTP client
    /// connection waits for its next request before its session gives way to a small
    /// record (parked); nil (`off`) keeps every session.
    public var parkIdleClients: DurationValue? = GlobalSettings.defaultParkIdleClients
    public static let defaultParkIdleClients = DurationValue(milliseconds: 100)
    public var masterWorker = false
    public var chroot: String? = nil
    public var pidfile: String? = nil
    public var user: String? = nil
    public var group: String? = nil
    public var uid: UInt32? = nil
    public var gid: UInt32? = nil
    public var nbthread: Int? = nil
    public var maxconn: Int? = nil
    public var logTargets: [LogTarget] = []
    public var logTag: String? = nil
    public var logSendHostname: String? = nil
    /// The largest `len` of all the `log` lines of the file (1024 for a line without
    /// one): HAProxy builds each log line in a buffer of that size, so no line's text
    /// is longer than this less one, whatever its target.
    public var logLineLimit = 1024
    public var statsSockets: [StatsSocketConfig] = []
    public var statsTimeout: DurationValue? = nil
    public var statsMaxconn: Int? = nil
    public var caBase: String? = nil
    public var crtBase: String? = nil
    public var sslDefaultBindCiphers: String? = nil
    public var sslDefaultBindCiphersuites: String? = nil
    public var sslDefaultBindOptions: [String] = []
    public var sslDefaultServerCiphers: String? = nil
    public var sslDefaultServerCiphersuites: String? = nil
    public var sslDefaultServerOptions: [String] = []
    public var sslDHParamFile: String? = nil
    public var tuneSSLDefaultDHParam: Int? = nil
    public var tuneBufsize: UInt64 = 16384
    public var tuneMaxrewrite: UInt64 = 1024
    /// `tune.maxaccept`: connections a listener accepts in a row before the loop serves
    /// other work; nil (also written 0) is HAProxy's default (4), -1 no limit.
    public var tuneMaxaccept: Int? = nil
    public var tuneOthers: [String: String] = [:]
    public var hardStopAfter: DurationValue? = nil
    public var spreadChecks: Int? = nil
    public var quiet = false
    public var strictLimits = false
    public var nodeName: String? = nil
    public var description: String? = nil
    public var pending: [String: [String]] = [:]

    public init() {}

    /// Event loops to run: `nbthread` (which the legacy `nbproc` is rewritten to), else one per core.
    public func threadCount(cores: Int) -> Int {
        nbthread ?? max(1, cores)
    }
}
