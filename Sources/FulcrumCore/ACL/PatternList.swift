import Synchronization

/// The patterns of one ACL, or the keys and values of one map file, compiled for their
/// match method: exact strings in a hash table, integers as ranges, addresses as
/// networks, regular expressions compiled once. Lists loaded from a file can be changed
/// from the runtime API (`add acl`, `set map`, ...), so their index sits behind a lock
/// held for one lookup. Patterns written on the `acl` line itself belong to no file:
/// nothing can reach them to change them, so they are read without the lock.
public final class PatternList: Sendable {
    public struct Entry: Hashable, Sendable {
        public var key: String
        /// A map's value for the key; nil in ACL pattern lists.
        public var value: SampleValue?
        /// Runtime API reference (`show map` prints it), stable while the entry lives.
        public var id: Int
    }

    public let method: MatchMethod
    public let ignoreCase: Bool
    /// The file the list was loaded from (`-f`, `map()`), empty for inline patterns.
    public let file: String
    /// For maps: the type values are read as (`str`, `int`, `ip`).
    public let valueType: MatchMethod?
    private let index: Mutex<Index>
    /// The index of a list no one can change (inline patterns), read as it is.
    private let fixed: Index
    private let isFixed: Bool

    public init(method: MatchMethod, ignoreCase: Bool, file: String = "", valueType: MatchMethod? = nil,
                entries: [(key: String, value: String?)]) throws(ConfigError) {
        self.method = method
        self.ignoreCase = ignoreCase
        self.file = file
        self.valueType = valueType
        var built = Index(method: method, ignoreCase: ignoreCase)
        for (k, entry) in entries.enumerated() {
            try built.add(Entry(key: entry.key, value: try Self.value(entry.value, valueType), id: k + 1))
        }
        index = Mutex(built)
        // Only lists written inline read `fixed`; a file's list would keep a stale copy.
        fixed = file.isEmpty ? built : Index(method: method, ignoreCase: ignoreCase)
        isFixed = file.isEmpty
    }

    /// The first entry (longest for `beg` and `ip`) that `sample` matches.
    public func match(_ sample: SampleValue) -> Entry? {
        if isFixed { return fixed.match(sample) }
        return index.withLock { $0.match(sample) }
    }

    /// The same for string methods on bytes as they lie in a head, without a copy.
    public func match(bytes: ArraySlice<UInt8>) -> Entry? {
        if isFixed { return fixed.matchBytes(bytes) }
        return index.withLock { $0.matchBytes(bytes) }
    }

    /// Whether some entry matches the head bytes (as `match(bytes:)`, without making
    /// the entry).
    public func matches(bytes: ArraySlice<UInt8>) -> Bool {
        if isFixed { return fixed.firstMatch(bytes: bytes) != nil }
        return index.withLock { $0.firstMatch(bytes: bytes) != nil }
    }

    /// Whether `match(bytes:)` applies: a string method or a regular expression.
    public var matchesBytes: Bool { [.str, .beg, .end, .sub, .dir, .dom, .len, .reg].contains(method) }

    public var entries: [Entry] { isFixed ? fixed.entries : index.withLock { $0.entries } }

    public func add(key: String, value: String?) throws(ConfigError) {
        precondition(!isFixed, "inline patterns cannot change")
        let v = try Self.value(value, valueType)
        try index.withLock { (i: inout Index) throws(ConfigError) in
            try i.add(Entry(key: key, value: v, id: i.nextID))
        }
    }

    /// `add-acl` and `set-map` from rules, in one step under the lock: the key is
    /// added if absent, or (for a map) its value set.
    public func upsert(key: String, value: String?) throws(ConfigError) {
        precondition(!isFixed, "inline patterns cannot change")
        let v = try Self.value(value, valueType)
        try index.withLock { (i: inout Index) throws(ConfigError) in
            if i.entries.contains(where: { $0.key == key }) {
                guard let v else { return }
                for j in i.entries.indices where i.entries[j].key == key { i.entries[j].value = v }
                return
            }
            try i.add(Entry(key: key, value: v, id: i.nextID))
        }
    }

    /// Sets the value of every entry with `key` (or `#REF` with `byReference`); false
    /// when there is none.
    public func set(key: String, value: String, byReference: Bool = true) throws(ConfigError) -> Bool {
        precondition(!isFixed, "inline patterns cannot change")
        let v = try Self.value(value, valueType)
        let reference = byReference && key.hasPrefix("#") ? key : nil
        return index.withLock { i in
            var found = false
            for k in i.entries.indices where i.entries[k].key == key || (reference != nil && "#\(Self.reference(i.entries[k].id))" == reference) {
                i.entries[k].value = v
                found = true
            }
            return found
        }
    }

    /// Removes every entry with `key` (or, with `byReference`, the one whose runtime
    /// reference `#REF` is given); false when none. Rules delete by key only: a key
    /// made of client input must not name another entry.
    public func delete(key: String, byReference: Bool = true) -> Bool {
        precondition(!isFixed, "inline patterns cannot change")
        return index.withLock { i in
            let before = i.entries.count
            let kept = byReference && key.hasPrefix("#") ? i.entries.filter { "#\(Self.reference($0.id))" != key } : i.entries.filter { $0.key != key }
            guard kept.count != before else { return false }
            i.rebuild(kept)
            return true
        }
    }

    /// How the runtime API prints an entry's reference (`#REF` selects it).
    public static func reference(_ id: Int) -> String { "0x" + String(id, radix: 16) }

    public func clear() {
        precondition(!isFixed, "inline patterns cannot change")
        index.withLock { $0.rebuild([]) }
    }

    static func value(_ text: String?, _ type: MatchMethod?) throws(ConfigError) -> SampleValue? {
        guard let text, let type else { return nil }
        switch type {
        case .int:
            guard let n = Int64(text) else { throw ConfigError("map value '\(text)' is not an integer.") }
            return .integer(n)
        case .ip:
            guard let a = IPNetwork.parse(text) else { throw ConfigError("map value '\(text)' is not an IP address.") }
            return .address(a)
        default:
            return .string(Array(text.utf8))
        }
    }

    /// The compiled form of the entries, rebuilt when the runtime API changes them.
    struct Index: @unchecked Sendable {
        let method: MatchMethod
        let ignoreCase: Bool
        var entries: [Entry] = []
        var nextID = 1
        var exact: [[UInt8]: Int] = [:]
        var bytes: [[UInt8]] = []
        /// The same patterns end to end in one buffer, `spans` saying where each lies:
        /// compared through pointers, with no reference counting per pattern.
        var flat: [UInt8] = []
        var spans: [Range<Int>] = []
        var regexes: [CompiledRegex?] = []
        var ranges: [ClosedRange<Int64>] = []
        var networks: [IPNetwork] = []

        init(method: MatchMethod, ignoreCase: Bool) {
            self.method = method
            self.ignoreCase = ignoreCase
        }

        mutating func rebuild(_ kept: [Entry]) {
            let next = nextID
            self = Index(method: method, ignoreCase: ignoreCase)
            nextID = next
            for e in kept { try? add(e) }
        }

        mutating func add(_ e: Entry) throws(ConfigError) {
            let k = entries.count
            var key = Array(e.key.utf8)
            if ignoreCase { key = key.map(Self.lower) }
            switch method {
            case .str:
                if exact[key] == nil { exact[key] = k }
                bytes.append(key)
            case .bin:
                guard let raw = Self.hex(e.key) else { throw ConfigError("'\(e.key)' is not a hexadecimal binary pattern.") }
                if exact[raw] == nil { exact[raw] = k }
            case .beg, .end, .sub:
                bytes.append(key)
            case .dir, .dom:
                // Stored without the delimiters at its ends, which a word match ignores.
                let delimiters = method == .dir ? Self.dirDelimiters : Self.domainDelimiters
                var p = key[...]
                while let f = p.first, delimiters.contains(f) { p = p.dropFirst() }
                while let l = p.last, delimiters.contains(l) { p = p.dropLast() }
                bytes.append(Array(p))
            case .reg:
                regexes.append(try CompiledRegex(e.key, ignoreCase: ignoreCase))
            case .int, .len:
                ranges.append(try Self.range(e.key))
            case .ip:
                guard let n = IPNetwork(e.key) else { throw ConfigError("'\(e.key)' is not a valid IPv4 or IPv6 address.") }
                networks.append(n)
            case .found, .bool:
                throw ConfigError("match method '\(method.rawValue)' takes no pattern (got '\(e.key)').")
            }
            if bytes.count > spans.count, let last = bytes.last {
                spans.append(flat.count..<(flat.count + last.count))
                flat += last
            }
            entries.append(e)
            nextID = max(nextID, e.id + 1)
        }

        func match(_ sample: SampleValue) -> Entry? {
            switch method {
            case .found: return Entry(key: "", value: nil, id: 0)
            case .bool: return sample.isTrue ? Entry(key: "", value: nil, id: 0) : nil
            case .int:
                guard let n = sample.integer else { return nil }
                return ranges.firstIndex { $0.contains(n) }.map { entries[$0] }
            case .len:
                let n = Int64(sample.bytes.count)
                return ranges.firstIndex { $0.contains(n) }.map { entries[$0] }
            case .ip:
                guard let a = sample.address else { return nil }
                var best: Int?
                for (k, n) in networks.enumerated() where n.contains(bytes: a) {
                    if best == nil || networks[best!].prefix < n.prefix { best = k }
                }
                return best.map { entries[$0] }
            case .reg:
                let s = sample.bytes
                return regexes.firstIndex { $0?.matches(s) ?? false }.map { entries[$0] }
            default:
                break
            }
            return matchBytes(sample.bytes[...])
        }

        /// String methods on bytes as they lie in a head: no copy, and `-i` folds case
        /// while comparing (patterns are stored folded).
        func matchBytes(_ s: ArraySlice<UInt8>) -> Entry? {
            switch method {
            case .str, .bin, .beg, .end, .sub, .dir, .dom, .len, .reg: return firstMatch(bytes: s).map { entries[$0] }
            default: return match(.string(Array(s)))
            }
        }

        /// Which entry `s` matches, by its position (string methods, `len` and `reg`).
        func firstMatch(bytes s: ArraySlice<UInt8>) -> Int? {
            let fold = ignoreCase
            switch method {
            case .str where spans.count <= 8, .beg, .end, .sub:
                return s.withUnsafeBufferPointer { subject in
                    flat.withUnsafeBufferPointer { flat in
                        spans.withUnsafeBufferPointer { spans in Self.scan(method, subject, flat, spans, fold) }
                    }
                }
            case .str:
                return exact[fold ? s.map(Self.lower) : Array(s)]
            case .bin:
                return exact[Array(s)]
            case .dir:
                return bytes.firstIndex { Self.matchWord($0, in: s, delimiters: Self.dirDelimiters, fold) }
            case .dom:
                return bytes.firstIndex { Self.matchWord($0, in: s, delimiters: Self.domainDelimiters, fold) }
            case .len:
                let n = Int64(s.count)
                return ranges.firstIndex { $0.contains(n) }
            case .reg:
                return regexes.firstIndex { $0?.matches(s) ?? false }
            default:
                return nil
            }
        }

        /// `str` (a few patterns), `beg` (the longest), `end` and `sub` through pointers:
        /// the position of the pattern `subject` matches.
        static func scan(_ method: MatchMethod, _ subject: UnsafeBufferPointer<UInt8>, _ flat: UnsafeBufferPointer<UInt8>,
                         _ spans: UnsafeBufferPointer<Range<Int>>, _ fold: Bool) -> Int? {
            let n = subject.count
            var best: Int?
            for k in spans.indices {
                let span = spans[k]
                let m = span.count
                guard m <= n else { continue }
                switch method {
                case .str:
                    if m == n && equal(subject, 0, flat, span.lowerBound, m, fold) { return k }
                case .beg:
                    if equal(subject, 0, flat, span.lowerBound, m, fold), best.map({ spans[$0].count < m }) ?? true { best = k }
                case .end:
                    if equal(subject, n - m, flat, span.lowerBound, m, fold) { return k }
                default:
                    var i = 0
                    while i + m <= n {
                        if equal(subject, i, flat, span.lowerBound, m, fold) { return k }
                        i += 1
                    }
                }
            }
            return best
        }

        /// `count` bytes of `a` from `i` equal the folded pattern bytes of `p` from `j`.
        @inline(__always)
        static func equal(_ a: UnsafeBufferPointer<UInt8>, _ i: Int, _ p: UnsafeBufferPointer<UInt8>, _ j: Int, _ count: Int, _ fold: Bool) -> Bool {
            var k = 0
            while k < count {
                let c = fold ? lower(a[i + k]) : a[i + k]
                if c != p[j + k] { return false }
                k += 1
            }
            return true
        }

        /// `a` equals the folded pattern `p` (case folded on `a`'s side when `fold`).
        @inline(__always)
        static func equal(_ a: ArraySlice<UInt8>, _ p: ArraySlice<UInt8>, _ fold: Bool) -> Bool {
            guard a.count == p.count else { return false }
            var i = a.startIndex, j = p.startIndex
            while i < a.endIndex {
                let c = fold ? lower(a[i]) : a[i]
                if c != p[j] { return false }
                i += 1
                j += 1
            }
            return true
        }

        static let dirDelimiters: Set<UInt8> = [UInt8(ascii: "/"), UInt8(ascii: "?")]
        static let domainDelimiters: Set<UInt8> = [UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "."), UInt8(ascii: ":")]

        static func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }

        static func find(_ needle: [UInt8], in hay: ArraySlice<UInt8>, _ fold: Bool = false) -> Int? {
            guard !needle.isEmpty else { return hay.startIndex }
            guard needle.count <= hay.count else { return nil }
            var i = hay.startIndex
            while i + needle.count <= hay.endIndex {
                if equal(hay[i..<(i + needle.count)], needle[...], fold) { return i }
                i += 1
            }
            return nil
        }

        /// The pattern, stripped of delimiters at its ends, occurs in the sample between
        /// delimiters (or the sample's ends): `dir` with slashes, `dom` with dots.
        static func matchWord(_ pattern: [UInt8], in s: ArraySlice<UInt8>, delimiters: Set<UInt8>, _ fold: Bool = false) -> Bool {
            // The pattern comes trimmed of delimiters (see `add`).
            let needle = pattern
            guard !needle.isEmpty else { return false }
            let p = needle
            var from = s.startIndex
            while let at = find(needle, in: s[from...], fold) {
                let before = at == s.startIndex || delimiters.contains(s[at - 1])
                let end = at + p.count
                let after = end == s.endIndex || delimiters.contains(s[end])
                if before && after { return true }
                from = at + 1
            }
            return false
        }

        static func hex(_ text: String) -> [UInt8]? {
            let digits = Array(text.utf8)
            guard digits.count % 2 == 0 else { return nil }
            var out: [UInt8] = []
            var i = 0
            while i < digits.count {
                guard let v = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
                out.append(v)
                i += 2
            }
            return out
        }

        /// `N`, `N:M`, `:M` or `N:`.
        static func range(_ text: String) throws(ConfigError) -> ClosedRange<Int64> {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            func number(_ s: Substring, _ fallback: Int64) throws(ConfigError) -> Int64 {
                if s.isEmpty { return fallback }
                guard let n = Int64(s) else { throw ConfigError("'\(text)' is not a number or a range of numbers.", hint: "write N, N:M, :M or N:") }
                return n
            }
            switch parts.count {
            case 1:
                let n = try number(parts[0], 0)
                guard !parts[0].isEmpty else { throw ConfigError("'\(text)' is not a number.") }
                return n...n
            case 2:
                let lo = try number(parts[0], Int64.min), hi = try number(parts[1], Int64.max)
                guard lo <= hi else { throw ConfigError("range '\(text)' is empty (its start is above its end).") }
                return lo...hi
            default:
                throw ConfigError("'\(text)' is not a number or a range of numbers.", hint: "write N, N:M, :M or N:")
            }
        }
    }
}
