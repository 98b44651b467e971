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

    /// Every live process, for `track_process`'s scans: its name (`comm`, as keepalived
    /// matches by default) and, with `arguments`, its command line's words. A killed
    /// process stays in /proc as a zombie until its parent reaps it; it is left out.
    static func processes(arguments: Bool) -> [ProcessTracker.Process] {
        var out: [ProcessTracker.Process] = []
        guard let dir = opendir("/proc") else { return out }
        defer { closedir(dir) }
        var buffer = [UInt8](repeating: 0, count: arguments ? commandLineLimit : statLimit)
        while let entry = readdir(dir) {
            // Only the numeric entries are processes.
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { raw -> pid_t in
                var n: pid_t = 0
                for c in raw {
                    if c == 0 { break }
                    guard c >= 48 && c <= 57 && n < 100_000_000 else { return 0 }
                    n = n * 10 + pid_t(c - 48)
                }
                return n
            }
            guard pid > 0, let p = process(pid, arguments: arguments, buffer: &buffer) else { continue }
            out.append(p)
        }
        return out
    }

    static let statLimit = 512
    /// Enough for any `process` line: a longer command line differs from it anyway.
    static let commandLineLimit = 65536

    /// One process as /proc shows it now; nil when it is gone or a zombie.
    static func process(_ pid: pid_t, arguments: Bool) -> ProcessTracker.Process? {
        var buffer = [UInt8](repeating: 0, count: arguments ? commandLineLimit : statLimit)
        return process(pid, arguments: arguments, buffer: &buffer)
    }

    static func process(_ pid: pid_t, arguments: Bool, buffer: inout [UInt8]) -> ProcessTracker.Process? {
        guard let stat = read("/proc/\(pid)/stat", into: &buffer),
              let (comm, state) = parseStat(String(decoding: stat, as: UTF8.self)),
              state != "Z" && state != "X" else { return nil }
        var p = ProcessTracker.Process(pid: pid, comm: comm)
        if arguments {
            guard let line = read("/proc/\(pid)/cmdline", into: &buffer) else { return nil }
            p.arguments = splitCommandLine(line)
        }
        return p
    }

    /// /proc/PID/cmdline: the words, each ended by a NUL.
    static func splitCommandLine<C: BidirectionalCollection<UInt8>>(_ bytes: C) -> [String] {
        guard !bytes.isEmpty else { return [] }
        var words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if bytes.last == 0 { words.removeLast() }
        return words
    }

    /// A whole small file, up to the buffer's size; nil when it cannot be read.
    static func read(_ path: String, into buffer: inout [UInt8]) -> ArraySlice<UInt8>? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var total = 0
        while total < buffer.count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            total += n
        }
        return buffer[0..<total]
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
