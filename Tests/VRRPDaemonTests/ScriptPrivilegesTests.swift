#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Testing
import KeepalivedConfig
@testable import VRRPDaemon

/// `user`/`script_user` and `enable_script_security`. Changing users needs root: those
/// tests are skipped otherwise.
@Suite struct ScriptPrivilegesTests {
    static let root = geteuid() == 0

    func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    @Test func credentialsFollowKeepalivedsDefaults() throws {
        var global = GlobalDefinitions()
        let nobody = try #require(ScriptCredentials.userEntry("nobody"))
        // No user anywhere: the daemon's own (unless a keepalived_script user exists).
        if ScriptCredentials.userEntry("keepalived_script") == nil {
            #expect(try ScriptCredentials.resolve(nil, global: global).get() == nil)
        }
        global.scriptUser = ScriptRunAs(user: "nobody")
        #expect(try ScriptCredentials.resolve(nil, global: global).get() == ScriptCredentials(user: "nobody", uid: nobody.0, gid: nobody.1))
        // The script's own user wins; a group given by name replaces the user's.
        let rootGroup = try #require(ScriptCredentials.groupID("root"))
        #expect(try ScriptCredentials.resolve(ScriptRunAs(user: "root", group: "root"), global: global).get() == ScriptCredentials(user: "root", uid: 0, gid: rootGroup))
        #expect(ScriptCredentials.resolve(ScriptRunAs(user: "no-such-user-x"), global: global) == .failure(.unknownUser("no-such-user-x")))
        #expect(ScriptCredentials.resolve(ScriptRunAs(user: "nobody", group: "no-such-group-x"), global: global) == .failure(.unknownGroup("no-such-group-x")))
    }

    @Test(.enabled(if: root, "needs root to change users"))
    func scriptRunsAsItsUserAndGroup() throws {
        let nobody = try #require(ScriptCredentials.userEntry("nobody"))
        let credentials = ScriptCredentials(user: "nobody", uid: nobody.0, gid: 4242)
        let check = "test \"$(id -u)\" = \(nobody.0) && test \"$(id -g)\" = 4242 && test \"$(id -G)\" = 4242"
        let pid = try ChildProcess.spawn(["/bin/sh", "-c", check], as: credentials)
        #expect(wait(pid) == 0)
        // Its own process group, as with posix_spawn.
        let group = try ChildProcess.spawn(["/bin/sh", "-c", "test \"$(ps -o pgid= -p $$ | tr -d ' ')\" = $$"], as: credentials)
        #expect(wait(group) == 0)
    }

    @Test(.enabled(if: root, "needs root to change users"))
    func aScriptThatCannotBeExecutedIsReportedLikePosixSpawn() throws {
        let nobody = try #require(ScriptCredentials.userEntry("nobody"))
        let credentials = ScriptCredentials(user: "nobody", uid: nobody.0, gid: nobody.1)
        #expect(throws: SystemError.self) { try ChildProcess.spawn(["/nonexistent/script.sh"], as: credentials) }
    }

    @Test(.enabled(if: root, "needs root to own files as root and as another user"))
    func scriptSecurityRefusesWhatANonRootUserCanChange() throws {
        var template = Array("/tmp/fulcrum-vrrp-sec-XXXXXX".utf8CString)
        let dir = String(cString: try #require(mkdtemp(&template)))
        defer { _ = unlink(dir + "/check.sh"); _ = rmdir(dir) }
        let script = dir + "/check.sh"
        let fd = open(script, O_WRONLY | O_CREAT, 0o755)
        #expect(fd >= 0)
        close(fd)
        chmod(script, 0o755)
        chmod(dir, 0o755)
        // Root-owned file in a root-owned directory under the sticky /tmp: secure.
        #expect(ScriptSecurity.insecurePath(realPath: script) == nil)
        #expect(ScriptSecurity.refusal(argv: [script, "arg"], credentials: nil) == nil)
        // A directory anyone can write to: the script could be replaced.
        chmod(dir, 0o777)
        #expect(ScriptSecurity.insecurePath(realPath: script) == dir)
        chmod(dir, 0o755)
        // Group-writable by a non-root group.
        chown(script, 0, 4242)
        chmod(script, 0o775)
        #expect(ScriptSecurity.insecurePath(realPath: script) == script)
        chown(script, 0, 0)
        #expect(ScriptSecurity.insecurePath(realPath: script) == nil)
        chmod(script, 0o755)
        // Owned by another user.
        let nobody = try #require(ScriptCredentials.userEntry("nobody"))
        chown(script, nobody.0, nobody.1)
        #expect(ScriptSecurity.refusal(argv: [script], credentials: nil) == .insecure(script: script, path: script))
        // Only scripts run as root are checked.
        #expect(ScriptSecurity.refusal(argv: [script], credentials: ScriptCredentials(user: "nobody", uid: nobody.0, gid: nobody.1)) == nil)
        #expect(ScriptSecurity.refusal(argv: [dir + "/missing.sh"], credentials: nil) == .notFound(dir + "/missing.sh"))
        #expect(ScriptRefusal.insecure(script: script, path: script).description.hasPrefix("Unsafe permissions found for script '\(script)' - disabling."))
    }

    /// A script named without a `/` is found along `PATH` (keepalived's default path
    /// when unset), checked at that file, and run with its name unchanged in argv[0].
    @Test func scriptsAreFoundAlongThePath() throws {
        let dir = "/tmp/fulcrum-vrrp-path-\(getpid())"
        mkdir(dir, 0o755)
        defer { unlink("\(dir)/probe-script"); rmdir(dir) }
        let fd = open("\(dir)/probe-script", O_CREAT | O_WRONLY | O_TRUNC, 0o755)
        _ = "#!/bin/sh\nexit 3\n".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        #expect(ChildProcess.resolve("probe-script", path: "/nonexistent:\(dir)") == "\(dir)/probe-script")
        #expect(ChildProcess.resolve("probe-script", path: "/usr/bin") == nil)
        #expect(ChildProcess.resolve("/abs/name", path: dir) == "/abs/name")
        #expect(ChildProcess.resolve("true", path: ChildProcess.defaultSearchPath) != nil)
        #expect(ScriptSecurity.refusal(argv: ["no-such-script-anywhere"], credentials: nil) != nil)
        if geteuid() == 0 {
            #expect(ScriptSecurity.refusal(argv: ["true"], credentials: nil) == nil, "found along PATH and owned by root")
        }
        let saved = getenv("PATH").map { String(cString: $0) }
        setenv("PATH", "\(dir):/usr/bin:/bin", 1)
        defer { if let saved { setenv("PATH", saved, 1) } }
        let pid = try ChildProcess.spawn(["probe-script"])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect((status >> 8) & 0xff == 3, "the script ran")
    }
}
