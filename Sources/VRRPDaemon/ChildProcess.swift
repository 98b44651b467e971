#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starting scripts without a shell, as keepalived does: the command's words become argv.
enum ChildProcess {
    /// Splits a keepalived command line into words: whitespace separates, single or
    /// double quotes group, a backslash escapes the next character.
    static func words(_ command: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for c in command {
            if escaped { current.append(c); escaped = false; inWord = true; continue }
            if c == "\\" && quote != "'" { escaped = true; continue }
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
                continue
            }
            switch c {
            case "'", "\"": quote = c; inWord = true
            case " ", "\t":
                if inWord { out.append(current); current = ""; inWord = false }
            default: current.append(c); inWord = true
            }
        }
        if inWord { out.append(current) }
        return out
    }

    static let defaultSignals = [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD]

    /// keepalived's search path for a script named without a `/` when `PATH` is unset.
    static let defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The file a script's first word runs: itself when it contains a `/`, else the
    /// first executable of that name along `PATH`, as keepalived finds it (nil: none).
    static func resolve(_ command: String, path: String? = nil) -> String? {
        if command.contains("/") { return command }
        let search = path ?? getenv("PATH").map { String(cString: $0) } ?? defaultSearchPath
        for directory in search.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = "\(directory)/\(command)"
            var info = stat()
            if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Starts argv in its own process group (so a timeout kills the script's children
    /// too) with default signal handling, as `credentials` when given; returns the pid.
    static func spawn(_ argv: [String], as credentials: ScriptCredentials? = nil) throws -> pid_t {
        if let credentials, credentials.uid != geteuid() || credentials.gid != getegid() {
            return try forkExec(argv, as: credentials)
        }
        guard let first = argv.first else { throw SystemError("spawn", code: ENOENT) }
        let path = resolve(first) ?? first
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in defaultSignals { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        var files = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&files)
        defer { posix_spawn_file_actions_destroy(&files) }
        posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0)
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &files, &attributes, &cArgs, environ)
        guard rc == 0 else { throw SystemError("spawn \(path)", code: rc) }
        return pid
    }

    /// posix_spawn cannot change the user, so: fork, drop to the script's groups, gid
    /// and uid in the child, then exec. The child calls only async-signal-safe functions
    /// on memory prepared before the fork; a failure before or in exec comes back
    /// through a close-on-exec pipe as errno, so it is reported like posix_spawn's.
    private static func forkExec(_ argv: [String], as credentials: ScriptCredentials) throws -> pid_t {
        guard let first = argv.first else { throw SystemError("spawn", code: ENOENT) }
        let path = resolve(first) ?? first
        var report: [Int32] = [0, 0]
        guard pipe(&report) == 0 else { throw SystemError("pipe") }
        for fd in report { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        guard let devNull = strdup("/dev/null"), let first = argv.first, let program = strdup(resolve(first) ?? first) else {
            throw SystemError("strdup", code: ENOMEM)
        }
        defer { free(program) }
        defer { free(devNull) }
        let signals = defaultSignals
        var groups: [gid_t] = [credentials.gid]
        let uid = credentials.uid, gid = credentials.gid
        let pid = fork()
        if pid < 0 {
            let code = errno
            close(report[0]); close(report[1])
            throw SystemError("fork", code: code)
        }
        if pid == 0 {
            close(report[0])
            for s in signals { signal(s, SIG_DFL) }
            var empty = sigset_t()
            sigemptyset(&empty)
            sigprocmask(SIG_SETMASK, &empty, nil)
            setpgid(0, 0)
            let fd = open(devNull, O_RDONLY)
            if fd > 0 { dup2(fd, 0); close(fd) }
            if setgroups(1, &groups) == 0 && setgid(gid) == 0 && setuid(uid) == 0 {
                execve(program, &cArgs, environ)
            }
            var code = errno
            _ = write(report[1], &code, MemoryLayout<Int32>.size)
            _exit(127)
        }
        close(report[1])
        var code: Int32 = 0
        var n: Int
        repeat { n = read(report[0], &code, MemoryLayout<Int32>.size) } while n < 0 && errno == EINTR
        close(report[0])
        if n == MemoryLayout<Int32>.size {
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            throw SystemError("spawn \(path) as \(credentials.user)", code: code)
        }
        return pid
    }
}
