import Synchronization

/// Every pattern and map file a configuration loads, each read once: ACLs and map
/// converters naming the same file with the same match method share one list, so the
/// runtime API's `add map`/`set map`/`add acl` change what every rule sees.
public final class PatternFiles: Sendable {
    struct Key: Hashable {
        var file: String
        var method: MatchMethod
        var ignoreCase: Bool
        var valueType: MatchMethod?
    }

    private let lists = Mutex<[Key: PatternList]>([:])
    /// Runtime API ids of the files, in load order.
    private let ids = Mutex<[String]>([])
    /// How files are read (the compile environment's reader), also for `return file`.
    public let readFile: @Sendable (String) -> [UInt8]?

    public init(readFile: @escaping @Sendable (String) -> [UInt8]?) {
        self.readFile = readFile
    }

    /// The list for `file` read with `method` (a map when `valueType` is set).
    public func list(_ file: String, method: MatchMethod, ignoreCase: Bool, valueType: MatchMethod? = nil) throws(ConfigError) -> PatternList {
        let key = Key(file: file, method: method, ignoreCase: ignoreCase, valueType: valueType)
        if let existing = lists.withLock({ $0[key] }) { return existing }
        guard let bytes = readFile(file) else {
            throw ConfigError("failed to open pattern file '\(file)'.", hint: "check the path and its permissions")
        }
        var entries: [(key: String, value: String?)] = []
        for (n, line) in Self.lines(bytes).enumerated() {
            if valueType != nil {
                guard let split = line.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
                    throw ConfigError("map file '\(file)' line \(n + 1): no value after key '\(line)'.", hint: "write one 'KEY VALUE' per line")
                }
                let value = line[split...].drop { $0 == " " || $0 == "\t" }
                entries.append((String(line[..<split]), String(value)))
            } else {
                entries.append((line, nil))
            }
        }
        let list: PatternList
        do throws(ConfigError) {
            list = try PatternList(method: method, ignoreCase: ignoreCase, file: file, valueType: valueType, entries: entries)
        } catch {
            throw ConfigError("pattern file '\(file)': \(error.message)", hint: error.hint)
        }
        ids.withLock { ids in if !ids.contains(file) { ids.append(file) } }
        return lists.withLock { all in
            if let raced = all[key] { return raced }
            all[key] = list
            return list
        }
    }

    /// The lists loaded from `file` (or `#ID`, as `show map`/`show acl` number them),
    /// maps or ACL pattern lists; the first is the one to show.
    public func lists(named file: String, maps: Bool) -> [PatternList] {
        var path = file
        if file.hasPrefix("#"), let id = Int(file.dropFirst()) {
            path = ids.withLock { id >= 0 && id < $0.count ? $0[id] : "" }
        }
        return lists.withLock { all in
            all.filter { ($0.key.valueType != nil) == maps && $0.key.file == path }.sorted { $0.key.method.rawValue < $1.key.method.rawValue }.map(\.value)
        }
    }

    /// Every file loaded as a map (or as ACL patterns), with its runtime id.
    public func files(maps: Bool) -> [(id: Int, file: String)] {
        let kinds = lists.withLock { all in Set(all.keys.filter { ($0.valueType != nil) == maps }.map(\.file)) }
        return ids.withLock { ids in ids.enumerated().filter { kinds.contains($0.element) }.map { ($0.offset, $0.element) } }
    }

    /// Non-empty lines without their comments, trimmed.
    static func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).compactMap { raw in
            let line = raw.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            if line.isEmpty || line.hasPrefix("#") { return nil }
            var end = line.endIndex
            while end > line.startIndex, [" ", "\t", "\r"].contains(line[line.index(before: end)]) { end = line.index(before: end) }
            return String(line[..<end])
        }
    }
}
