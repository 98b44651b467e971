/// The pieces of a logged request line that `%HM`, `%HU`, `%HP`, `%HPO`, `%HQ` and
/// `%HV` print, cut the way HAProxy 2.6 cuts them: words split on spaces and tabs, a
/// line without a URI (or no line at all) gives `<BADREQ>`, a line without a version
/// is HTTP/0.9, and the query keeps its `?`.
public struct RequestLineParts: Sendable {
    public static let badRequest = Array("<BADREQ>".utf8)

    let line: [UInt8]?

    public init(_ line: [UInt8]?) { self.line = line }

    private static func isSpace(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }

    /// Where the method ends, and where the URI starts (nil without a space after the method).
    private var afterMethod: (methodEnd: Int, uriStart: Int?)? {
        guard let line else { return nil }
        var i = 0
        while i < line.count, !Self.isSpace(line[i]) { i += 1 }
        let methodEnd = i
        while i < line.count, Self.isSpace(line[i]) { i += 1 }
        return (methodEnd, i > methodEnd ? i : nil)
    }

    public var method: ArraySlice<UInt8> {
        guard let line, let end = afterMethod?.methodEnd, end < line.count else { return Self.badRequest[...] }
        return line[..<end]
    }

    /// The request target, `/a/b?c=d` or `http://host/a`.
    public var uri: ArraySlice<UInt8> {
        guard let line, let start = afterMethod?.uriStart else { return Self.badRequest[...] }
        var end = start
        while end < line.count, !Self.isSpace(line[end]) { end += 1 }
        return line[start..<end]
    }

    /// The target up to its query string.
    public var path: ArraySlice<UInt8> {
        let target = uri
        guard afterMethod?.uriStart != nil else { return target }
        return target.prefix { $0 != UInt8(ascii: "?") }
    }

    /// The path alone: no scheme and authority (absolute form), no query string.
    public var pathOnly: ArraySlice<UInt8> {
        guard afterMethod?.uriStart != nil else { return Self.badRequest[...] }
        var target = uri
        if target.first != UInt8(ascii: "/"), target.first != UInt8(ascii: "*"),
           let colon = target.firstIndex(of: UInt8(ascii: ":")),
           target[colon...].starts(with: Array("://".utf8)) {
            // Absolute form: the path starts at the first slash after the authority.
            let authority = target.index(colon, offsetBy: 3)
            target = target[authority...].firstIndex(of: UInt8(ascii: "/")).map { target[$0...] } ?? target[target.endIndex...]
        } else if target.first != UInt8(ascii: "/") && target.first != UInt8(ascii: "*") {
            // Authority form (CONNECT host:port) or `*`: no path.
            target = target[target.endIndex...]
        }
        return target.prefix { $0 != UInt8(ascii: "?") }
    }

    /// `?a=b` with its question mark, empty without a query string. HAProxy looks for
    /// the `?` anywhere in the line, then stops at the next space.
    public var query: ArraySlice<UInt8> {
        guard let line else { return Self.badRequest[...] }
        guard let mark = line.firstIndex(of: UInt8(ascii: "?")) else { return line[line.endIndex...] }
        var end = mark
        while end < line.count, !Self.isSpace(line[end]) { end += 1 }
        return line[mark..<end]
    }

    public var version: ArraySlice<UInt8> {
        guard let line, let start = afterMethod?.uriStart else { return Self.badRequest[...] }
        var i = start
        while i < line.count, !Self.isSpace(line[i]) { i += 1 }
        while i < line.count, Self.isSpace(line[i]) { i += 1 }
        return i == line.count ? Array("HTTP/0.9".utf8)[...] : line[i...]
    }
}
