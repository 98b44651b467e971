#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore

/// The `mode`, `user`/`uid` and `group`/`gid` options of a unix-socket `bind` line,
/// applied to the socket file right after binding (before privileges are dropped), so
/// a local client running as another user may connect.
enum UnixSocketPermissions {
    static func apply(to path: String, options: BindOptions) throws {
        if let mode = options.unixMode, let bits = mode_t(mode, radix: 8) {
            guard chmod(path, bits) == 0 else { throw failure("chmod \(mode)", path) }
        }
        let uid: uid_t? = try options.unixUser.map { name in
            if let number = uid_t(name) { return number }
            guard let entry = getpwnam(name) else { throw ProxyStartError("unix socket \(path): unknown user '\(name)'") }
            return entry.pointee.pw_uid
        } ?? options.others["uid"].flatMap { uid_t($0) }
        let gid: gid_t? = try options.unixGroup.map { name in
            if let number = gid_t(name) { return number }
            guard let entry = getgrnam(name) else { throw ProxyStartError("unix socket \(path): unknown group '\(name)'") }
            return entry.pointee.gr_gid
        } ?? options.others["gid"].flatMap { gid_t($0) }
        if uid != nil || gid != nil {
            // -1 (all bits set) leaves that id unchanged.
            guard chown(path, uid ?? uid_t.max, gid ?? gid_t.max) == 0 else { throw failure("chown", path) }
        }
    }

    private static func failure(_ call: String, _ path: String) -> ProxyStartError {
        ProxyStartError("unix socket \(path): \(call): \(String(cString: strerror(errno)))")
    }
}
