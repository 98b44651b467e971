import NIOCore

/// What the session registry and the runtime API ask of a client connection's handler.
/// The registry keeps the handler, not the channel: an HTTP connection parked between
/// requests has no channel, and a spliced TCP one no longer has one.
protocol LiveSession: AnyObject {
    /// The backend and server the connection uses now, for `show sess`.
    var liveTarget: (backend: String, server: String?) { get }
    /// Cuts the connection (`shutdown session`, `shutdown sessions server`); called on
    /// its event loop.
    func cut()
    /// The client's address, for `show sess`.
    var clientAddress: SocketAddress? { get }
    /// The process stops gracefully (SIGUSR1): an idle keep-alive connection closes
    /// now, a busy one after its response; TCP connections run to their end.
    func softStop()
}

extension LiveSession {
    func softStop() {}
}

extension HTTPClientSession: LiveSession {}
