import FulcrumHTTP1

/// Headers that describe one connection and so are not passed to the next hop
/// (RFC 9110 section 7.6.1): `Connection`, the headers it names, `Keep-Alive` and the
/// non-standard `Proxy-Connection`. Fulcrum writes its own `Connection` header where
/// the next hop needs one.
enum HopByHop {
    /// Headers that frame the message or route it: a `Connection` header naming them is
    /// a request smuggling attempt (the next hop would see another body length), so
    /// they are never removed that way.
    static let protected: Set<String> = ["content-length", "transfer-encoding", "host"]

    static func strip(_ editor: inout HTTPHeadEditor, keepUpgrade: Bool) {
        var named: [String] = []
        for field in editor.fields where editor.matches(field, "connection") {
            for item in editor.value(of: field).split(separator: UInt8(ascii: ",")) {
                let token = String(decoding: item, as: UTF8.self).trimmingWhitespace().lowercased()
                if !token.isEmpty, token != "close", token != "keep-alive", token != "upgrade", !protected.contains(token) { named.append(token) }
            }
        }
        editor.delete("connection")
        editor.delete("keep-alive")
        editor.delete("proxy-connection")
        if !keepUpgrade { editor.delete("upgrade") }
        for name in named where !(keepUpgrade && name == "upgrade") {
            editor.delete(name)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
