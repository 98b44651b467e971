import Glibc
import NIOCore

/// The owner of a `StreamSocket`: told, on the loop's thread, what happened to it.
public protocol StreamSocketDelegate: AnyObject {
    /// Bytes arrived. `bytes` shares the loop's read buffer: holding on to it past the
    /// call is allowed (the next read then takes a new buffer) but costs an allocation.
    func socketRead(_ socket: StreamSocket, _ bytes: ByteBuffer)
    /// The peer shut its side: nothing more will be read. The socket stays open for
    /// output until closed.
    func socketInputEnded(_ socket: StreamSocket)
    /// An outgoing connection is established; writes queued meanwhile are on their way.
    func socketConnected(_ socket: StreamSocket)
    /// Output that had to wait for the peer has all been written.
    func socketDrained(_ socket: StreamSocket)
    /// The connection failed (refused, reset, timed out in the kernel): the socket is
    /// closed already and will report nothing more.
    func socketFailed(_ socket: StreamSocket, error: IOError)
}

extension StreamSocketDelegate {
    public func socketConnected(_ socket: StreamSocket) {}
    public func socketDrained(_ socket: StreamSocket) {}
}
