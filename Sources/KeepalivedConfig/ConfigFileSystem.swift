#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The two things the reader needs from the file system, as closures so that tests can
/// feed it text without touching the disk.
public struct ConfigFileSystem: Sendable {
    public var readFile: @Sendable (String) -> String?
    /// Paths matching a shell pattern, sorted; a pattern without metacharacters that
    /// names no file gives nothing.
    public var glob: @Sendable (String) -> [String]

    public init(readFile: @escaping @Sendable (String) -> String?, glob: @escaping @Sendable (String) -> [String]) {
        self.readFile = readFile
        self.glob = glob
    }

    public static let live = ConfigFileSystem(
        readFile: { path in
            guard let f = fopen(path, "rb") else { return nil }
            defer { fclose(f) }
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
                if n > 0 { out.append(contentsOf: buffer[0..<n]) }
                if n < buffer.count { break }
            }
            if ferror(f) != 0 { return nil }
            return String(decoding: out, as: UTF8.self)
        },
        glob: { pattern in
            var g = glob_t()
            defer { globfree(&g) }
            guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
            var out: [String] = []
            for i in 0..<Int(g.gl_pathc) {
                if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
            }
            return out.sorted()
        })
}
