import Synchronization

/// A stick table: counters per key (a client address, say) that rules track and ACLs
/// read, shared by every connection of every event loop behind one lock held for a
/// dictionary operation. Entries expire `expire` after their last update unless a
/// connection still tracks them; when the table is full the oldest idle entry goes.
public final class StickTable: Sendable {
    /// What happens to a tracked entry.
    public enum Event: Sendable {
        /// A connection (`tcp-request connection track-sc`) or a session begins.
        case connection
        case trackBegin, trackEnd
        case httpRequest, httpError
        case bytesIn(Int), bytesOut(Int)
        case incrementGPC(Int), clearGPC(Int)
        case setGPT0(Int64)
    }

    struct Entry {
        var values: [Int64]
        var rates: [FrequencyCounter]
        var use = 0
        /// The server a `stick` rule recorded (its 1-based id), for persistence.
        var serverID: Int?
        var touched: Int64
        var id: Int
    }

    struct State {
        var entries: [[UInt8]: Entry] = [:]
        var nextID = 1
    }

    public let name: String
    public let config: StickTableConfig
    private let state = Mutex(State())

    public init(name: String, config: StickTableConfig) {
        self.name = name
        self.config = config
    }

    /// The table's key for a sample, or nil when the sample cannot be one (an IPv6
    /// address in an `ip` table, a non-number in an `integer` one).
    public func key(_ v: SampleValue) -> [UInt8]? {
        switch config.type {
        case .ip:
            guard let a = v.address else { return nil }
            if a.count == 4 { return a }
            if a[0..<10].allSatisfy({ $0 == 0 }), a[10] == 0xFF, a[11] == 0xFF { return Array(a[12...]) }
            return nil
        case .ipv6:
            guard let a = v.address else { return nil }
            return a.count == 16 ? a : [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + a
        case .integer:
            guard let n = v.integer else { return nil }
            return withUnsafeBytes(of: n.bigEndian) { Array($0) }
        case .string:
            return Array(v.bytes.prefix(config.keyLength))
        case .binary:
            let b = Array(v.bytes.prefix(config.keyLength))
            return b + [UInt8](repeating: 0, count: config.keyLength - b.count)
        }
    }

    /// Applies `events` to the entry of `key`, creating it if needed; false when the
    /// table is full of entries in use.
    @discardableResult
    public func apply(_ events: [Event], to key: [UInt8], now: Int64) -> Bool {
        state.withLock { s in
            guard prepare(&s, key, now) else { return false }
            // Changed in place: no copy of the entry's arrays.
            for event in events { apply(event, &s.entries[key]!, now) }
            s.entries[key]!.touched = now
            return true
        }
    }

    /// Makes sure `key` has a live entry: an expired one starts afresh (its counters
    /// do not outlive `expire`), a new one may push out the oldest idle entry.
    private func prepare(_ s: inout State, _ key: [UInt8], _ now: Int64) -> Bool {
        if let e = s.entries[key], isLive(e, now) { return true }
        if s.entries[key] != nil {
            s.entries[key] = nil
        } else {
            guard makeRoom(&s, now) else { return false }
        }
        s.entries[key] = Entry(values: [Int64](repeating: 0, count: config.stores.count),
                               rates: [FrequencyCounter](repeating: FrequencyCounter(), count: config.stores.count),
                               touched: now, id: s.nextID)
        s.nextID += 1
        return true
    }

    private func apply(_ event: Event, _ e: inout Entry, _ now: Int64) {
        func add(_ counter: StickTableConfig.Store, _ rate: StickTableConfig.Store?, _ n: Int64) {
            for (k, store) in config.stores.enumerated() {
                if store == counter { e.values[k] += n }
                if let rate, store.name == rate.name, let p = store.period { e.rates[k].add(n, now: now, period: p) }
            }
        }
        switch event {
        case .connection:
            add(.connCount, .connRate(1), 1)
            add(.sessionCount, .sessionRate(1), 1)
        case .trackBegin:
            e.use += 1
            add(.connCurrent, nil, 1)
        case .trackEnd:
            e.use = max(0, e.use - 1)
            for (k, store) in config.stores.enumerated() where store == .connCurrent { e.values[k] = max(0, e.values[k] - 1) }
        case .httpRequest: add(.httpRequestCount, .httpRequestRate(1), 1)
        case .httpError: add(.httpErrorCount, .httpErrorRate(1), 1)
        case .bytesIn(let n): add(.bytesInCount, .bytesInRate(1), Int64(n))
        case .bytesOut(let n): add(.bytesOutCount, .bytesOutRate(1), Int64(n))
        case .incrementGPC(let which): add(which == 0 ? .gpc0 : .gpc1, which == 0 ? .gpc0Rate(1) : .gpc1Rate(1), 1)
        case .clearGPC(let which):
            for (k, store) in config.stores.enumerated() where store == (which == 0 ? .gpc0 : .gpc1) { e.values[k] = 0 }
        case .setGPT0(let v):
            for (k, store) in config.stores.enumerated() where store == .gpt0 { e.values[k] = v }
        }
    }

    /// Drops expired entries, then the least recently updated idle one if still full.
    private func makeRoom(_ s: inout State, _ now: Int64) -> Bool {
        guard s.entries.count >= config.size else { return true }
        if let expire = config.expire {
            s.entries = s.entries.filter { $0.value.use > 0 || now - $0.value.touched < Int64(expire) }
        }
        guard s.entries.count >= config.size else { return true }
        if config.noPurge { return false }
        guard let oldest = s.entries.filter({ $0.value.use == 0 }).min(by: { $0.value.touched < $1.value.touched })?.key else { return false }
        s.entries[oldest] = nil
        return true
    }

    /// The server recorded for `key` by a `stick on`/`store-request` rule.
    public func server(of key: [UInt8], now: Int64) -> Int? {
        state.withLock { s in
            guard let e = s.entries[key], isLive(e, now) else { return nil }
            return e.serverID
        }
    }

    /// Records the server for `key` (the 1-based id `show table` prints).
    public func store(server: Int, for key: [UInt8], now: Int64) {
        state.withLock { s in
            guard prepare(&s, key, now) else { return }
            s.entries[key]!.serverID = server
            s.entries[key]!.touched = now
        }
    }

    /// A stored datum of `key` by its `store` name (`http_req_rate`, `conn_cur`, ...):
    /// nil when the table does not store it, 0 when the key has no live entry.
    public func value(_ name: String, of key: [UInt8], now: Int64) -> Int64? {
        guard let k = config.stores.firstIndex(where: { $0.name == name }) else { return nil }
        return state.withLock { s in
            guard let e = s.entries[key], isLive(e, now) else { return 0 }
            if let p = config.stores[k].period { return e.rates[k].read(now: now, period: p) }
            return e.values[k]
        }
    }

    private func isLive(_ e: Entry, _ now: Int64) -> Bool {
        guard let expire = config.expire else { return true }
        return e.use > 0 || now - e.touched < Int64(expire)
    }

    public func count(now: Int64) -> Int {
        state.withLock { s in s.entries.values.filter { isLive($0, now) }.count }
    }

    /// Removes every idle entry (or the one of `key`); `show table`'s `clear table`.
    public func clear(key: [UInt8]? = nil) {
        state.withLock { s in
            if let key {
                if s.entries[key]?.use == 0 { s.entries[key] = nil }
            } else {
                s.entries = s.entries.filter { $0.value.use > 0 }
            }
        }
    }

    /// Removes the idle entries whose data pass every filter (`clear table ... data.*`).
    public func clear(where filters: [DataFilter], now: Int64) {
        state.withLock { s in s.entries = s.entries.filter { $0.value.use > 0 || !passes($0.value, filters, now) } }
    }

    private func passes(_ e: Entry, _ filters: [DataFilter], _ now: Int64) -> Bool {
        filters.allSatisfy { $0.comparison.holds(datum(e, $0.store, now), $0.value) }
    }

    /// Stored datum `k` of an entry now: a rate read at `now`, the recorded server.
    private func datum(_ e: Entry, _ k: Int, _ now: Int64) -> Int64 {
        let store = config.stores[k]
        if let p = store.period { return e.rates[k].read(now: now, period: p) }
        if store == .serverID { return Int64(e.serverID ?? 0) }
        return e.values[k]
    }

    /// `show table NAME` lines, in HAProxy's layout: the entries whose data pass every
    /// filter, or only the entry of `key`.
    public func dump(now: Int64, filters: [DataFilter] = [], key: [UInt8]? = nil) -> [String] {
        let entries = state.withLock { s in
            let candidates: [(key: [UInt8], value: Entry)] = key.map { k in s.entries[k].map { [(k, $0)] } ?? [] } ?? s.entries.map { ($0.key, $0.value) }
            return candidates.filter { isLive($0.value, now) && passes($0.value, filters, now) }.sorted { $0.value.id < $1.value.id }
        }
        let storesServer = config.stores.contains(.serverID)
        return entries.map { key, e in
            var line = "0x\(String(e.id, radix: 16)): key=\(describe(key)) use=\(e.use) exp=\(config.expire.map { max(0, Int64($0) - (now - e.touched)) } ?? 0)"
            if let server = e.serverID, !storesServer { line += " server_id=\(server)" }
            for (k, store) in config.stores.enumerated().sorted(by: { Self.order($0.element) < Self.order($1.element) }).map({ ($0.offset, $0.element) }) {
                if let p = store.period {
                    line += " \(store.name)(\(p))=\(datum(e, k, now))"
                } else {
                    line += " \(store.name)=\(datum(e, k, now))"
                }
            }
            return line
        }
    }

    /// `show table` prints the data in HAProxy's fixed order, whatever the `store` order.
    static func order(_ store: StickTableConfig.Store) -> Int {
        let names = ["server_id", "gpt0", "gpc0", "gpc0_rate", "conn_cnt", "conn_rate", "conn_cur", "sess_cnt", "sess_rate",
                     "http_req_cnt", "http_req_rate", "http_err_cnt", "http_err_rate", "bytes_in_cnt", "bytes_in_rate",
                     "bytes_out_cnt", "bytes_out_rate", "gpc1", "gpc1_rate"]
        return names.firstIndex(of: store.name) ?? names.count
    }

    /// The header line `show table` prints for the table.
    public func summary(now: Int64) -> String {
        "# table: \(name), type: \(config.type.rawValue), size:\(config.size), used:\(count(now: now))"
    }

    /// A key in the notation `show table` prints and `clear table ... key` takes.
    public func describe(_ key: [UInt8]) -> String {
        switch config.type {
        case .ip, .ipv6: return IPNetwork.format(key)
        case .integer: return String(key.reduce(Int64(0)) { $0 << 8 | Int64($1) })
        case .string: return String(decoding: key, as: UTF8.self)
        case .binary: return key.map { String(format2: $0) }.joined()
        }
    }
}

extension String {
    init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
