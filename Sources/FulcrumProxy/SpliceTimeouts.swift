/// A spliced connection's idle limits in nanoseconds (0: none): `timeout client` and
/// `server` (or `tunnel`) while both directions run, `client-fin` and `server-fin` once
/// one has ended, as NIO-relayed connections have them.
struct SpliceTimeouts: Sendable {
    var client: Int64 = 0
    var clientFin: Int64 = 0
    var server: Int64 = 0
    var serverFin: Int64 = 0
}
