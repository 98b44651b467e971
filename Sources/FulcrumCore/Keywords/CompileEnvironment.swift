#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import HAProxyConfig

/// The outside world a configuration refers to: files (errorfiles), accounts (`user`,
/// `group`) and host names. Injected so that the compiler is testable without them.
public struct CompileEnvironment: Sendable {
    public var readFile: @Sendable (String) -> [UInt8]?
    public var userID: @Sendable (String) -> UInt32?
    public var groupID: @Sendable (String) -> UInt32?
    public var resolves: @Sendable (String) -> Bool

    public init(readFile: @escaping @Sendable (String) -> [UInt8]?, userID: @escaping @Sendable (String) -> UInt32?,
                groupID: @escaping @Sendable (String) -> UInt32?, resolves: @escaping @Sendable (String) -> Bool) {
        self.readFile = readFile
        self.userID = userID
        self.groupID = groupID
        self.resolves = resolves
    }

    /// The real system.
    public static let system = CompileEnvironment(
        readFile: { ConfigLoader.readFile($0) },
        userID: { name in getpwnam(name).map { $0.pointee.pw_uid } },
        groupID: { name in getgrnam(name).map { $0.pointee.gr_gid } },
        resolves: { host in
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>? = nil
            let rc = getaddrinfo(host, nil, &hints, &result)
            if let result { freeaddrinfo(result) }
            return rc == 0
        }
    )
}
