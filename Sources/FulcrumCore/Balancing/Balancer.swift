/// A load-balancing algorithm: a synchronous pick among a backend's servers, with
/// hooks for the events that change it. Implementations are plain values, so they are
/// tested without sockets; the data plane keeps one per backend behind a lock taken
/// once per connection (never per byte).
public protocol Balancer: Sendable {
    /// The index of the server for the next connection, avoiding `excluded` (servers that
    /// just failed, are full or are not in the group in use), or `nil` when none is
    /// left. `hash` is the request's key for the hashing algorithms (nil when the key
    /// is missing: they fall back to round robin, as HAProxy).
    mutating func pick(excluding excluded: Set<Int>, hash: UInt32?) -> Int?
    mutating func setWeight(_ server: Int, _ weight: Int)
    mutating func setUsable(_ server: Int, _ usable: Bool)
    mutating func connectionTaken(_ server: Int)
    mutating func connectionReleased(_ server: Int)
}

extension Balancer {
    public mutating func pick(excluding excluded: Set<Int>) -> Int? {
        pick(excluding: excluded, hash: nil)
    }
}
