#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore

/// What HAProxy does to its process around binding: go to the background (`daemon`),
/// write the pid file, then, once every listener is bound, `chroot` and give up root
/// (`user`/`group`/`uid`/`gid`), in that order, so privileged ports and paths outside
/// the jail can still be bound.
enum ProcessSetup {
    /// The parent side of a daemon start: it waits until the child says whether it is
    /// listening, and exits with that outcome, so `fulcrum -D` returns 0 only once the
    /// service is up (and 1 with the child's message when it failed).
    struct DaemonHandshake {
        let writeEnd: Int32

        /// Tells the waiting parent that start-up succeeded, and detaches from the terminal.
        func succeeded() {
            var ok: UInt8 = 1
            _ = Glibc.write(writeEnd, &ok, 1)
            Glibc.close(writeEnd)
            let null = open("/dev/null", O_RDWR)
            if null >= 0 {
                for fd: Int32 in [0, 1, 2] { dup2(null, fd) }
                if null > 2 { Glibc.close(null) }
            }
        }
    }

    /// Forks before any thread exists (the event loops are created after this). The
    /// parent never returns.
    static func daemonize() -> DaemonHandshake {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { fatal("cannot create a pipe to start as a daemon: \(errorText())") }
        let pid = fork()
        if pid < 0 { fatal("cannot fork to start as a daemon: \(errorText())") }
        if pid > 0 {
            Glibc.close(fds[1])
            var status: UInt8 = 0
            let n = Glibc.read(fds[0], &status, 1)
            if n == 1 && status == 1 { exit(0) }
            var childStatus: Int32 = 0
            waitpid(pid, &childStatus, 0)
            exit(1)
        }
        Glibc.close(fds[0])
        setsid()
        return DaemonHandshake(writeEnd: fds[1])
    }

    static func writePidfile(_ path: String) throws(SetupError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SetupError("cannot create pidfile \(path): \(errorText())") }
        let text = "\(getpid())\n"
        _ = text.withCString { Glibc.write(fd, $0, strlen($0)) }
        Glibc.close(fd)
    }

    static func enterChroot(_ directory: String) throws(SetupError) {
        guard chroot(directory) == 0, chdir("/") == 0 else {
            throw SetupError("cannot chroot(\(directory)): \(errorText())")
        }
    }

    /// Group first, then user: once the user is dropped, the group can no longer change.
    static func dropPrivileges(uid: UInt32?, gid: UInt32?) throws(SetupError) {
        if let gid {
            var groups = [gid_t(gid)]
            guard setgroups(1, &groups) == 0 || getuid() != 0 else { throw SetupError("cannot set groups to \(gid): \(errorText())") }
            guard setgid(gid_t(gid)) == 0 else { throw SetupError("cannot set gid to \(gid): \(errorText())") }
        }
        if let uid {
            if gid == nil && getuid() == 0 { _ = setgroups(0, nil) }
            guard setuid(uid_t(uid)) == 0 else { throw SetupError("cannot set uid to \(uid): \(errorText())") }
        }
    }

    struct SetupError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }

    private static func fatal(_ message: String) -> Never {
        Process.printError(message)
        exit(1)
    }
}
