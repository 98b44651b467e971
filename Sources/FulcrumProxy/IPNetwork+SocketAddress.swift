import FulcrumCore
import NIOCore

extension IPNetwork {
    func contains(_ address: SocketAddress?) -> Bool {
        guard let bytes = address?.ipBytes else { return false }
        return contains(bytes: bytes)
    }
}

extension SocketAddress {
    /// The raw network-order address: 4 bytes for IPv4, 16 for IPv6, nil for unix sockets.
    var ipBytes: [UInt8]? {
        switch self {
        case .v4(let a):
            var raw = a.address.sin_addr
            return withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let a):
            var raw = a.address.sin6_addr
            return withUnsafeBytes(of: &raw) { Array($0) }
        default:
            return nil
        }
    }
}
