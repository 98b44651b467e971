#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reading what `track_file` and `track_process` watch.
enum TrackSources {
    /// The number at the start of a track file; nil when it cannot be read.
    static func readNumber(_ path: String) -> Int? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), f) != nil else { return 0 }
        let text = String(cChars: buffer).trimmingCharacters()
        if text.isEmpty { return 0 }
        let digits = text.prefix { $0 == "-" || $0 == "+" || $0.isNumber }
        return Int(digits) ?? 0
    }

    /// How many live processes run with each name (the kernel's `comm`, as keepalived
    /// matches by default). A killed process stays in /proc as a zombie until its parent
    /// reaps it; it is not counted.
    static func processCounts(names: Set<String>) -> [String: Int] {
        var counts: [String: Int] = [:]
        guard let dir = opendir("/proc") else { return counts }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            guard let first = name.first, first.isNumber else { continue }
            guard let f = fopen("/proc/\(name)/stat", "r") else { continue }
            var buffer = [CChar](repeating: 0, count: 256)
            let got = fgets(&buffer, Int32(buffer.count), f) != nil
            fclose(f)
            guard got, let (comm, state) = parseStat(String(cChars: buffer)) else { continue }
            if names.contains(comm) && state != "Z" && state != "X" { counts[comm, default: 0] += 1 }
        }
        return counts
    }

    /// `pid (comm) S ...`: the name between the first "(" and the last ")" (names may
    /// contain parentheses and spaces), and the state letter after it.
    static func parseStat(_ line: String) -> (comm: String, state: Character)? {
        guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")") , open < close else { return nil }
        let comm = String(line[line.index(after: open)..<close])
        let rest = line[line.index(after: close)...].drop { $0 == " " }
        guard let state = rest.first else { return nil }
        return (comm, state)
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    /// A C buffer up to its first NUL.
    init(cChars buffer: [CChar]) {
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
