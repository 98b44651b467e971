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
        // One pass to learn whether anything goes (usually a lone `Connection: close`
        // or nothing), then one removal in place: this runs for most requests.
        var named: [String] = []
        var found = false
        for field in editor.fields {
            // Only names of these lengths can be hop-by-hop: most fields are passed over
            // on their length alone.
            let length = editor.name(of: field).count
            guard length == 10 || length == 16 || length == 7 else { continue }
            if editor.matches(field, "connection") {
                found = true
                // Item by item without splitting into an array (allocation-free for the
                // usual `close` or `keep-alive`).
                let value = editor.value(of: field)
                var start = value.startIndex
                while start <= value.endIndex {
                    let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
                    let token = trimmed(value[start..<end])
                    start = end + 1
                    if token.isEmpty || HTTPHeadEditor.equalsIgnoringCase(token, "close")
                        || HTTPHeadEditor.equalsIgnoringCase(token, "keep-alive") || HTTPHeadEditor.equalsIgnoringCase(token, "upgrade") { continue }
                    let name = String(decoding: token, as: UTF8.self).lowercased()
                    if !protected.contains(name) { named.append(name) }
                }
            } else if isOtherHopByHop(editor.name(of: field), keepUpgrade: keepUpgrade) {
                found = true
            }
        }
        guard found else { return }
        // In place: the editor's array has room already, a filtered copy would be one
        // more allocation per message.
        let bytes = editor.bytes
        editor.fields.removeAll { field in
            let name = HTTPHeadEditor.name(of: field, in: bytes)
            if named.isEmpty && name.count != 10 && name.count != 16 && name.count != 7 { return false }
            return HTTPHeadEditor.equalsIgnoringCase(name, "connection") || isOtherHopByHop(name, keepUpgrade: keepUpgrade)
                || named.contains { !(keepUpgrade && $0 == "upgrade") && HTTPHeadEditor.equalsIgnoringCase(name, $0) }
        }
    }

    /// `Keep-Alive`, `Proxy-Connection`, and `Upgrade` unless an upgrade goes on.
    private static func isOtherHopByHop(_ name: ArraySlice<UInt8>, keepUpgrade: Bool) -> Bool {
        HTTPHeadEditor.equalsIgnoringCase(name, "keep-alive") || HTTPHeadEditor.equalsIgnoringCase(name, "proxy-connection")
            || (!keepUpgrade && HTTPHeadEditor.equalsIgnoringCase(name, "upgrade"))
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { slice.removeFirst() }
        while let last = slice.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { slice.removeLast() }
        return slice
    }
}
