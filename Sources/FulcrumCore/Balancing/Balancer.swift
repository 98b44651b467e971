/// A load-balancing algorithm: a synchronous pick among a backend's servers, with
/// hooks for the events that change it. Implementations are plain values, so they are
/// tested without sockets; the data plane keeps one per backend behind a lock taken
/// once per connection (never per byte).
public protocol Balancer: Sendable {
    /// The index of the server for the next connection, avoiding `excluded` (servers that
    /// just failed), or `nil` when no usable server is left.
    mutating func pick(excluding excluded: Set<Int>) -> Int?
    mutating func setUsable(_ server: Int, _ usable: Bool)
    mutating func connectionTaken(_ server: Int)
    mutating func connectionReleased(_ server: Int)
}
