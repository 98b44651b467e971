import NIOCore

/// What a TCP-mode listener's connections need to be spliced: the engines, whether the
/// frontend asks for it (a backend's own `option splice-*` counts too), and the client
/// side's idle timeouts, which the engine enforces once NIO no longer sees the socket.
struct TCPSplicing: Sendable {
    let pool: SplicePool
    let frontend: Bool
    let clientTimeout: TimeAmount?
    let clientFinTimeout: TimeAmount?
}
