#if canImport(Glibc)
import Glibc
#endif
import HAProxyConfig
import Synchronization

/// A `userlist` section: users with a crypt(3) hash (`password`) or a clear text
/// password (`insecure-password`), and groups, for `http_auth(L)` and `http-request auth`.
public struct UserlistConfig: Hashable, Sendable {
    public struct User: Hashable, Sendable {
        public var name: String
        public var password: String
        public var hashed: Bool
        public var groups: [String]
    }

    public var name: String
    public var users: [User] = []
    public var location: SourceLocation

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// Parses one line of the section.
    public mutating func add(_ words: [String]) throws(ConfigError) {
        guard let keyword = words.first else { return }
        switch keyword {
        case "user":
            guard words.count >= 2 else { throw ConfigError("'user' expects <name> [password|insecure-password <pass>] [groups <g>,...].") }
            var user = User(name: words[1], password: "", hashed: false, groups: [])
            var k = 2
            while k < words.count {
                guard k + 1 < words.count else { throw ConfigError("'user \(words[1])': '\(words[k])' expects a value.") }
                switch words[k] {
                case "password": user.password = words[k + 1]; user.hashed = true
                case "insecure-password": user.password = words[k + 1]; user.hashed = false
                case "groups": user.groups += words[k + 1].split(separator: ",").map(String.init)
                default: throw ConfigError("'user \(words[1])': unexpected argument '\(words[k])'.", hint: "expects password, insecure-password or groups")
                }
                k += 2
            }
            if users.contains(where: { $0.name == user.name }) { throw ConfigError("userlist '\(name)': user '\(user.name)' is declared twice.") }
            users.append(user)
        case "group":
            guard words.count >= 2 else { throw ConfigError("'group' expects <name> [users <u>,...].") }
            if words.count >= 4, words[2] == "users" {
                for member in words[3].split(separator: ",").map(String.init) {
                    if let k = users.firstIndex(where: { $0.name == member }) { users[k].groups.append(words[1]) }
                }
            } else if words.count > 2 {
                throw ConfigError("'group \(words[1])': unexpected argument '\(words[2])'.", hint: "write 'group NAME [users U1,U2]'")
            }
        default:
            throw ConfigError("unknown keyword '\(keyword)' in userlist section.", hint: "a userlist holds 'user' and 'group' lines")
        }
    }

    /// The user whose credentials these are, or nil.
    public func authenticate(user: String, password: String) -> User? {
        guard let u = users.first(where: { $0.name == user }) else { return nil }
        if !u.hashed { return u.password == password ? u : nil }
        return PasswordHash.verify(password, hash: u.password) ? u : nil
    }
}

/// crypt(3) from the system's libcrypt, loaded at run time so that building needs no
/// development package; calls are serialised because crypt() uses a static buffer.
public enum PasswordHash {
    typealias CryptFunction = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>) -> UnsafeMutablePointer<CChar>?
    static let crypt: CryptFunction? = {
        for name in ["libcrypt.so.1", "libcrypt.so.2", "libcrypt.so"] {
            if let handle = dlopen(name, RTLD_NOW), let symbol = dlsym(handle, "crypt") {
                return unsafeBitCast(symbol, to: CryptFunction.self)
            }
        }
        return nil
    }()
    static let lock = Mutex(())

    public static func verify(_ password: String, hash: String) -> Bool {
        guard let crypt else { return false }
        return lock.withLock { _ in
            guard let out = crypt(password, hash) else { return false }
            let computed = String(decoding: UnsafeRawBufferPointer(start: out, count: strlen(out)), as: UTF8.self)
            return !computed.isEmpty && computed == hash
        }
    }
}
