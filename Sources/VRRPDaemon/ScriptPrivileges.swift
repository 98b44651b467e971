#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig

/// The user and group a script runs as: set in the child (supplementary groups, gid,
/// then uid) before it executes the script.
struct ScriptCredentials: Hashable {
    var user: String
    var uid: uid_t
    var gid: gid_t

    /// keepalived's choice: the script's own `user`, else `script_user`, else the
    /// `keepalived_script` user if it exists; nil means the daemon's own user. A group
    /// that is not given is the user's. Fails with keepalived's text for an unknown name.
    static func resolve(_ runAs: ScriptRunAs?, global: GlobalDefinitions) -> Result<ScriptCredentials?, ScriptRefusal> {
        guard let wanted = runAs ?? global.scriptUser ?? (userEntry("keepalived_script") != nil ? ScriptRunAs(user: "keepalived_script") : nil) else {
            return .success(nil)
        }
        guard let (uid, userGID) = userEntry(wanted.user) else { return .failure(.unknownUser(wanted.user)) }
        var gid = userGID
        if let group = wanted.group {
            guard let g = groupID(group) else { return .failure(.unknownGroup(group)) }
            gid = g
        }
        return .success(ScriptCredentials(user: wanted.user, uid: uid, gid: gid))
    }

    static func userEntry(_ name: String) -> (uid_t, gid_t)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return (entry.pw_uid, entry.pw_gid)
    }

    static func groupID(_ name: String) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.gr_gid
    }
}

/// Why a script is not run; the descriptions are keepalived's log lines.
enum ScriptRefusal: Error, Hashable, CustomStringConvertible {
    case unknownUser(String)
    case unknownGroup(String)
    case notFound(String)
    case insecure(script: String, path: String)

    var description: String {
        switch self {
        case .unknownUser(let u): "Unable to set uid for script: user '\(u)' not found - disabling."
        case .unknownGroup(let g): "Unable to set gid for script: group '\(g)' not found - disabling."
        case .notFound(let s): "Cannot find script '\(s)' - disabling."
        case .insecure(let s, let p): "Unsafe permissions found for script '\(s)' - disabling. (\(p) is writable by a non-root user)"
        }
    }
}

/// `enable_script_security`: a script that runs as root must not be changeable by
/// anyone else, neither the file nor any directory above it.
enum ScriptSecurity {
    /// The first path (the script's real path, then each directory up to `/`) that a
    /// non-root user could change, or nil when there is none. Owned by a non-root user,
    /// or group-writable by a non-root group, or world-writable: changeable. A directory
    /// with the sticky bit (like `/tmp`) is not, for its root-owned entries.
    static func insecurePath(realPath: String) -> String? {
        var path = realPath
        while true {
            var st = stat()
            guard lstat(path, &st) == 0 else { return path }
            let mode = st.st_mode
            let isDirectory = (mode & S_IFMT) == S_IFDIR
            let sticky = isDirectory && (mode & S_ISVTX) != 0
            let groupWritable = st.st_gid != 0 && (mode & S_IWGRP) != 0
            let worldWritable = (mode & S_IWOTH) != 0
            if st.st_uid != 0 || (!sticky && (groupWritable || worldWritable)) { return path }
            if path == "/" { return nil }
            // The parent directory.
            if let slash = path.lastIndex(of: "/") {
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            } else {
                return nil
            }
        }
    }

    /// The script's real path (symbolic links resolved), nil when it does not exist.
    static func realPath(_ command: String) -> String? {
        guard let resolved = realpath(command, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The check keepalived makes before it runs a script: nil when it may run.
    static func refusal(argv: [String], credentials: ScriptCredentials?) -> ScriptRefusal? {
        guard let command = argv.first else { return .notFound("") }
        // Only scripts that run as root are checked (a script run as another user can do
        // no more than that user could anyway).
        guard (credentials?.uid ?? geteuid()) == 0 else { return nil }
        guard let real = ChildProcess.resolve(command).flatMap(realPath) else { return .notFound(command) }
        if let path = insecurePath(realPath: real) { return .insecure(script: command, path: path) }
        return nil
    }
}
