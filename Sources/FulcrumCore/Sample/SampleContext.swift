import FulcrumHTTP1

/// What sample fetches read for one stream: the connection's addresses and names, the
/// request head as rules have left it so far, the response once it arrives, the
/// transaction's variables. The data plane fills it; fetches and ACLs only read it, so
/// they are tested on plain values. A class: one per transaction, handed to every
/// fetch and rule without copying its many fields.
public final class SampleContext {
    public var client: [UInt8]?
    public var clientPort = 0
    public var destination: [UInt8]?
    public var destinationPort = 0
    /// The listener's `name` (`so_name`).
    public var listenerName: [UInt8] = []
    public var frontendName: [UInt8] = []
    public var backendName: [UInt8] = []
    public var serverName: [UInt8] = []
    public var uniqueID: [UInt8] = []
    /// The request head (start line and headers) after the rules run so far.
    public var request: HTTPHeadEditor? {
        get { requestHead }
        set { requestHead = newValue; headChanged() }
        _modify {
            yield &requestHead
            headChanged()
        }
    }
    private var requestHead: HTTPHeadEditor?

    private func headChanged() {
        cachedPath = nil
        cachedTarget = nil
        cachedMethod = nil
        authenticated = [:]
    }

    /// Runs `body` on the request head (or the response's) where it lies, without the
    /// copy reading the property makes; nil without one. `body` only reads it, and
    /// must not reach the heads through the context meanwhile (exclusive access).
    @inline(__always)
    public func withHead<R>(response: Bool, _ body: (inout HTTPHeadEditor) -> R) -> R? {
        if response {
            guard self.response != nil else { return nil }
            return body(&self.response!)
        }
        guard requestHead != nil else { return nil }
        return body(&requestHead!)
    }
    /// Path, target and method as slices of the head, found once per head version:
    /// several ACLs read them per request, and a slice costs no copy.
    private var cachedPath: ArraySlice<UInt8>?
    private var cachedTarget: ArraySlice<UInt8>?
    private var cachedMethod: ArraySlice<UInt8>?

    public var pathSlice: ArraySlice<UInt8>? {
        if let cachedPath { return cachedPath }
        guard let target = targetSlice else { return nil }
        let p = target[HTTPHeadEditor.pathRange(in: target)]
        cachedPath = p
        return p
    }

    public var targetSlice: ArraySlice<UInt8>? {
        if let cachedTarget { return cachedTarget }
        guard let t = withHead(response: false, { $0.currentTarget }) else { return nil }
        cachedTarget = t
        return t
    }

    public var methodSlice: ArraySlice<UInt8>? {
        if let cachedMethod { return cachedMethod }
        guard let m = withHead(response: false, { $0.currentMethod }) else { return nil }
        cachedMethod = m
        return m
    }

    public var path: [UInt8]? { pathSlice.map { Array($0) } }
    public var target: [UInt8]? { targetSlice.map { Array($0) } }
    public var methodBytes: [UInt8]? { methodSlice.map { Array($0) } }
    /// The request body, when buffered (`option http-buffer-request`, `wait-for-body`).
    public var requestBody: [UInt8]?
    /// The first bytes a TCP-mode connection sent, for `req.payload`, `req.ssl_sni`.
    public var payload: [UInt8]?
    /// The server's first bytes, for `tcp-response content` rules.
    public var responsePayload: [UInt8]?
    /// Bytes of the request received so far (`req.len`).
    public var requestLength = 0
    public var response: HTTPHeadEditor?
    public var status: Int?
    /// `txn.*`, `req.*`, `res.*`, `sess.*` and `proc.*` variables, by full name.
    public var variables: [String: SampleValue] = [:]
    /// Stick tables by name, the one rules without `table` use, and the entries this
    /// stream tracks (`sc0`...`sc2`).
    public var tables: [String: StickTable] = [:]
    public var defaultTable = ""
    public var trackers: [StickTracker?] = StickTracker.noSlots
    /// Milliseconds of a monotonic clock, for stick table rates and expiry.
    public var milliseconds: () -> Int64 = { 0 }
    /// What `http-request capture` rules captured, by request capture slot, and what
    /// `http-response capture ... id` rules captured, by response slot.
    public var captures: [Int: [UInt8]] = [:]
    public var responseCaptures: [Int: [UInt8]] = [:]
    /// Pattern and map files, for `add-acl`, `set-map`, ... actions.
    public var patternFiles: PatternFiles?
    /// `set-log-level silent`: the transaction is not logged; another level replaces
    /// the access log's for this transaction (syslog severity, 0 emerg ... 7 debug).
    public var silent = false
    public var logLevel: Int?
    /// The user a userlist authenticated for this request, by userlist: crypt(3) runs
    /// once per request, not once per ACL that asks.
    public var authenticated: [String: UserlistConfig.User?] = [:]
    /// `userlist` sections, for `http_auth`.
    public var userlists: [String: UserlistConfig] = [:]
    /// Live counts of the proxies (`be_conn`, `queue`, `connslots`, `fe_conn`,
    /// `srv_conn`, `srv_is_up`), by kind and the named proxy or `backend/server`
    /// (nil: the current one); nil when the name matches nothing.
    public var proxies: (any ProxyState)?
    /// True on the first request of a connection (`http_first_req`).
    public var firstRequest = true

    /// Seconds since the epoch, for `date`.
    public var now: () -> Int64 = { 0 }
    public var randomNumber: () -> UInt64 = { UInt64.random(in: 0...UInt64.max) }
    public var environment: (String) -> String? = { _ in nil }

    public init() {}

    /// `1.0` or `1.1` from the start line's protocol.
    public var requestVersion: [UInt8]? {
        guard let r = request else { return nil }
        let line = r.bytes[r.startLine]
        guard let slash = line.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        return Array(line[(slash + 1)...])
    }
}

/// An entry a stream tracks: its table and key, and whether the connection (rather
/// than the current request) tracks it.
public struct StickTracker: Sendable {
    public let table: StickTable
    public let key: [UInt8]
    public let connectionLevel: Bool

    public init(table: StickTable, key: [UInt8], connectionLevel: Bool) {
        self.table = table
        self.key = key
        self.connectionLevel = connectionLevel
    }

    /// The three `track-sc` slots, all empty: one shared array, so that a connection or
    /// a request that tracks nothing allocates none.
    public static let noSlots: [StickTracker?] = [nil, nil, nil]
}

/// The running proxies as fetches see them; the data plane's policy of the current
/// backend answers, so a transaction holds one reference rather than closures.
public protocol ProxyState: AnyObject, Sendable {
    /// Usable servers of a backend (nil: the current one), for `nbsrv`.
    func usableServers(_ backend: String?) -> Int
    func count(_ kind: ProxyCount, _ name: String?) -> Int?
}

/// The live counts sample fetches read from the running proxies.
public enum ProxyCount: Sendable {
    case backendConnections, backendQueue, connectionSlots, frontendConnections, serverConnections, serverIsUp
    /// `fe_id`, `be_id`, `srv_id`; `fe_sess_rate`, `be_sess_rate` (sessions over the last second).
    case frontendID, backendID, serverID, frontendSessionRate, backendSessionRate
}
