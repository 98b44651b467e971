import NIOCore

/// What the session registry and the runtime API ask of a client connection's handler.
protocol LiveSession: AnyObject {
    /// The backend and server the connection uses now, for `show sess`.
    var liveTarget: (backend: String, server: String?) { get }
    /// Cuts the connection (`shutdown session`, `shutdown sessions server`); called on
    /// its event loop.
    func cut(_ channel: Channel)
    /// The client's address, when the channel no longer knows it (a spliced
    /// connection's channel is closed while the session goes on).
    var clientAddress: SocketAddress? { get }
}

extension LiveSession {
    var clientAddress: SocketAddress? { nil }

    func cut(_ channel: Channel) {
        channel.close(promise: nil)
    }
}

extension HTTPClientSession: LiveSession {}
