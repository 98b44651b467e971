/// `capture request header NAME len N` / `capture response header NAME len N`, and
/// `declare capture request|response len N` (no name: a slot only rules fill). Their
/// order is the slots' order in `%hr`/`%hs`.
public struct CaptureHeader: Hashable, Sendable {
    public enum Direction: String, Hashable, Sendable { case request, response }
    public var direction: Direction
    public var name: String
    public var length: Int

    public init(direction: Direction, name: String, length: Int) {
        self.direction = direction
        self.name = name
        self.length = length
    }
}
