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

    /// How many processes run with each name (the kernel's `comm`, as keepalived
    /// matches by default).
    static func processCounts(names: Set<String>) -> [String: Int] {
        var counts: [String: Int] = [:]
        guard let dir = opendir("/proc") else { return counts }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            guard let first = name.first, first.isNumber else { continue }
            guard let f = fopen("/proc/\(name)/comm", "r") else { continue }
            var buffer = [CChar](repeating: 0, count: 64)
            let got = fgets(&buffer, Int32(buffer.count), f) != nil
            fclose(f)
            guard got else { continue }
            let comm = String(cChars: buffer).trimmingCharacters()
            if names.contains(comm) { counts[comm, default: 0] += 1 }
        }
        return counts
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
