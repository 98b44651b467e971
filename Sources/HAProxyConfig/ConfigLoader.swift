#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads the paths given with `-f`, as HAProxy does: a file is read as is, a directory
/// contributes its `*.cfg` regular files in lexical order.
public struct ConfigLoader: Sendable {
    public var context: ConditionContext

    public init(context: ConditionContext) {
        self.context = context
    }

    public func load(paths: [String]) -> (ConfigDocument, DiagnosticList) {
        var reader = ConfigReader(context: context)
        var extra = DiagnosticList()
        for path in paths {
            if Self.isDirectory(path) {
                guard let entries = Self.listDirectory(path) else {
                    extra.alert("Could not open configuration directory \(path) : \(Self.lastError())")
                    continue
                }
                let files = entries.filter { $0.hasSuffix(".cfg") }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                for file in files {
                    let full = path.hasSuffix("/") ? path + file : path + "/" + file
                    guard Self.isRegularFile(full) else { continue }
                    readOne(full, into: &reader, diagnostics: &extra)
                }
            } else {
                readOne(path, into: &reader, diagnostics: &extra)
            }
        }
        var diagnostics = extra
        diagnostics.append(contentsOf: reader.diagnostics)
        return (reader.document, diagnostics)
    }

    private func readOne(_ path: String, into reader: inout ConfigReader, diagnostics: inout DiagnosticList) {
        guard let bytes = Self.readFile(path) else {
            diagnostics.alert("Could not open configuration file \(path) : \(Self.lastError())")
            return
        }
        reader.read(file: path, contents: bytes)
    }

    public static func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n > 0 { out.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count {
                if ferror(f) != 0 { return nil }
                break
            }
        }
        return out
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    static func listDirectory(_ path: String) -> [String]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
