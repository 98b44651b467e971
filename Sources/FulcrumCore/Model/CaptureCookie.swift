/// `capture cookie NAME len N`: the first request cookie (`%CC`) and the first cookie a
/// server sets (`%CS`) whose `name=value` starts with NAME, kept as `name=value` cut
/// at N bytes (at most 63, HAProxy's capture size).
public struct CaptureCookie: Hashable, Sendable {
    public static let maximumLength = 63

    public var name: String
    public var length: Int

    public init(name: String, length: Int) {
        self.name = name
        self.length = length
    }

    /// In a request's `Cookie` value: the first `name=value` pair starting with the name.
    public func captureRequest(_ value: some Collection<UInt8>) -> [UInt8]? {
        for part in Array(value).split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false) {
            if let captured = capture(part) { return captured }
        }
        return nil
    }

    /// In a server's `Set-Cookie` value: its `name=value` (the attributes after `;` aside).
    public func captureResponse(_ value: some Collection<UInt8>) -> [UInt8]? {
        capture(Array(value).prefix { $0 != UInt8(ascii: ";") })
    }

    private func capture(_ part: ArraySlice<UInt8>) -> [UInt8]? {
        var pair = part
        while let f = pair.first, f == 32 || f == 9 { pair = pair.dropFirst() }
        while let l = pair.last, l == 32 || l == 9 { pair = pair.dropLast() }
        let prefix = Array(name.utf8)
        guard pair.count >= prefix.count, pair.starts(with: prefix) else { return nil }
        return Array(pair.prefix(length))
    }
}
