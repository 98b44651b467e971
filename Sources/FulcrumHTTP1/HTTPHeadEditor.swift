/// An HTTP message head being rewritten: header lines no rule touched stay offsets into
/// the original bytes and are copied unchanged; only edited lines are produced anew.
/// Operations follow HAProxy's header actions: names compare case-insensitively, `add`
/// appends, `set` removes every occurrence then appends, `delete` removes them all.
public struct HTTPHeadEditor: Sendable {
    public enum Field: Sendable, Equatable {
        case original(HTTPHeaderField)
        case added(name: [UInt8], value: [UInt8])
    }

    public let bytes: [UInt8]
    /// The request or status line (without its CRLF).
    public var startLine: Range<Int>
    /// A replacement request target, if a rule changed it.
    public var newTarget: [UInt8]?
    /// A replacement method (`set-method`).
    public var newMethod: [UInt8]?
    /// A replacement status line (`set-status`), without its CRLF.
    public var newStartLine: [UInt8]?
    public var target: Range<Int>?
    public var fields: [Field]

    public init(bytes: [UInt8], startLine: Range<Int>, target: Range<Int>?, headers: [HTTPHeaderField]) {
        self.bytes = bytes
        self.startLine = startLine
        self.target = target
        // Room for the headers Fulcrum adds (`Connection`, the unique ID,
        // `X-Forwarded-For`) without growing the array again.
        var fields: [Field] = []
        fields.reserveCapacity(headers.count + 4)
        for header in headers { fields.append(.original(header)) }
        self.fields = fields
    }

    public func name(of field: Field) -> ArraySlice<UInt8> {
        Self.name(of: field, in: bytes)
    }

    public static func name(of field: Field, in bytes: [UInt8]) -> ArraySlice<UInt8> {
        switch field {
        case .original(let f): return bytes[f.name]
        case .added(let name, _): return name[...]
        }
    }

    public func value(of field: Field) -> ArraySlice<UInt8> {
        switch field {
        case .original(let f): return bytes[f.value]
        case .added(_, let value): return value[...]
        }
    }

    public func matches(_ field: Field, _ name: String) -> Bool {
        Self.equalsIgnoringCase(self.name(of: field), name)
    }

    public func contains(_ name: String) -> Bool {
        fields.contains { matches($0, name) }
    }

    public mutating func add(_ name: String, _ value: [UInt8]) {
        fields.append(.added(name: Array(name.utf8), value: value))
    }

    /// `add` with a name already in bytes (kept by the caller: nothing to allocate).
    public mutating func add(_ name: [UInt8], _ value: [UInt8]) {
        fields.append(.added(name: name, value: value))
    }

    /// Names and values Fulcrum writes itself, built once.
    public static let connectionName = Array("Connection".utf8)
    public static let closeValue = Array("close".utf8)
    public static let keepAliveValue = Array("keep-alive".utf8)
    public static let upgradeValue = Array("upgrade".utf8)
    static let crlf: [UInt8] = [13, 10]
    static let colonSpace: [UInt8] = [UInt8(ascii: ":"), UInt8(ascii: " ")]

    public mutating func set(_ name: String, _ value: [UInt8]) {
        delete(name)
        add(name, value)
    }

    public mutating func delete(_ name: String) {
        let bytes = self.bytes
        fields.removeAll { Self.equalsIgnoringCase(Self.name(of: $0, in: bytes), name) }
    }

    /// Replaces the value of every occurrence of `name` for which `transform` returns a value.
    public mutating func replaceValues(of name: String, _ transform: (ArraySlice<UInt8>) -> [UInt8]?) {
        for k in fields.indices where matches(fields[k], name) {
            if let replaced = transform(value(of: fields[k])) {
                fields[k] = .added(name: Array(self.name(of: fields[k])), value: replaced)
            }
        }
    }

    /// The current request target (the replaced one if a rule changed it).
    public var currentTarget: ArraySlice<UInt8> {
        if let newTarget { return newTarget[...] }
        guard let target else { return [] }
        return bytes[target]
    }

    /// True when no edit was made to a head of `headerCount` headers: its original bytes
    /// can be forwarded as they are.
    public func isUnchanged(headerCount: Int) -> Bool {
        guard newTarget == nil, newMethod == nil, newStartLine == nil, fields.count == headerCount else { return false }
        return fields.allSatisfy { if case .original = $0 { return true } else { return false } }
    }

    /// The current method (the replaced one if a rule changed it).
    public var currentMethod: ArraySlice<UInt8> {
        if let newMethod { return newMethod[...] }
        let line = bytes[startLine]
        return line[..<(line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex)]
    }

    /// The path of the target: origin-form up to `?`, or the part of an absolute-form
    /// target after its authority.
    public static func pathRange(in target: ArraySlice<UInt8>) -> Range<Int> {
        var start = target.startIndex
        if target.first != UInt8(ascii: "/"), let scheme = findSchemeSeparator(target) {
            start = target[(scheme + 3)...].firstIndex(of: UInt8(ascii: "/")) ?? target.endIndex
        }
        let end = target[start...].firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        return start..<end
    }

    public mutating func setPath(_ path: [UInt8]) {
        let target = Array(currentTarget)
        let range = Self.pathRange(in: target[...])
        newTarget = Array(target[..<range.lowerBound]) + path + Array(target[range.upperBound...])
    }

    public mutating func setTarget(_ value: [UInt8]) {
        newTarget = value
    }

    /// The edited head, CRLF line endings and the final empty line included.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 256)
        serialize { out += $0 }
        return out
    }

    /// The edited head handed to `emit` piece by piece, in order: written straight
    /// into an output buffer, without an array in between.
    public func serialize(_ emit: (ArraySlice<UInt8>) -> Void) {
        if let newStartLine {
            emit(newStartLine[...])
        } else if newTarget != nil || newMethod != nil, let target {
            if let newMethod {
                emit(newMethod[...])
                emit(Self.colonSpace[1...])
            } else {
                emit(bytes[startLine.lowerBound..<target.lowerBound])
            }
            emit(currentTarget)
            emit(bytes[target.upperBound..<startLine.upperBound])
        } else {
            emit(bytes[startLine])
        }
        emit(Self.crlf[...])
        for field in fields {
            switch field {
            case .original(let f):
                emit(bytes[f.line])
            case .added(let name, let value):
                emit(name[...])
                emit(Self.colonSpace[...])
                emit(value[...])
            }
            emit(Self.crlf[...])
        }
        emit(Self.crlf[...])
    }

    static func findSchemeSeparator(_ target: ArraySlice<UInt8>) -> Int? {
        var i = target.startIndex
        while i + 2 < target.endIndex {
            if target[i] == UInt8(ascii: ":") && target[i + 1] == UInt8(ascii: "/") && target[i + 2] == UInt8(ascii: "/") { return i }
            if target[i] == UInt8(ascii: "/") { return nil }
            i += 1
        }
        return nil
    }

    public static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercaseOrMixed: String) -> Bool {
        guard bytes.count == lowercaseOrMixed.utf8.count else { return false }
        var i = bytes.startIndex
        for c in lowercaseOrMixed.utf8 {
            if lowercase(bytes[i]) != lowercase(c) { return false }
            i += 1
        }
        return true
    }

    static func lowercase(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
    }
}
