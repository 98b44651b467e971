/// One header line as offsets into the head's bytes: nothing is copied, and a header no
/// rule touches is forwarded as the original bytes.
public struct HTTPHeaderField: Hashable, Sendable {
    /// The whole line without its CRLF.
    public var line: Range<Int>
    public var name: Range<Int>
    /// The value with surrounding white space removed.
    public var value: Range<Int>
}
