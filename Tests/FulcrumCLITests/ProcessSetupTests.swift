import Foundation
import Testing

/// The process-level settings of the global section, on the real binary: `daemon`,
/// `pidfile`, `chroot`, `user`/`group` applied after binding, and the SIGTTOU/SIGTTIN
/// listener pause.
@Suite(.serialized) struct ProcessSetupTests {
    static func config(_ global: String, port: Int, backend: Int) -> String {
        "global\n\(global)\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nlisten l\n  bind 127.0.0.1:\(port)\n  server s 127.0.0.1:\(backend)\n"
    }

    static func status(_ pid: Int32, _ field: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix(field + ":") }.map { String($0.dropFirst(field.count + 1)).trimmingCharacters(in: .whitespaces) }
    }

    /// Runs the launcher with its output in a file and waits for it with `waitpid`: a
    /// daemon keeps whatever descriptors it inherited, so waiting for a pipe's end of
    /// file (or for Foundation's process monitor, which watches a descriptor the child
    /// holds) would wait for the daemon too.
    static func launch(_ config: URL) throws -> (status: Int32, stderr: String) {
        let errors = config.deletingLastPathComponent().appendingPathComponent("stderr-\(UUID().uuidString)").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = [FulcrumProcess.binary.path, "-f", config.path]
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitCode, (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")
    }

    @Test func daemonWritesItsPidfileAndReturnsOnceListening() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = Loopback.freePort(), port = Loopback.freePort()
        try running.start("/usr/bin/env", ["python3", HTTPProxyTests.backendScript, "b", "127.0.0.1", String(backend)])
        try running.waitForListener(backend)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-daemon-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let pidfile = dir.appendingPathComponent("fulcrum.pid").path
        let file = try FulcrumProcess.temporaryFile(Self.config("  daemon\n  pidfile \(pidfile)", port: port, backend: backend))
        let run = try Self.launch(file)
        #expect(run.status == 0, "the launching process returns once the daemon listens: \(run.stderr)")
        let pid = Int32((try? String(contentsOfFile: pidfile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(pid > 0)
        defer { if pid > 0 { kill(pid, SIGKILL) } }
        #expect(try HTTPTestConnection.get(port, "/echo")?.status == 200, "the daemon serves right after the launcher returned")
        #expect(Self.status(pid, "PPid") != nil)

        // A daemon that cannot bind makes the launcher fail, with the reason. (Another
        // Fulcrum could share the port, as HAProxy's SO_REUSEPORT allows: a plain
        // socket holds it here.)
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        let heldPort = Loopback.freePort()
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(heldPort).bigEndian)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(holder, 4)
        let taken = try FulcrumProcess.temporaryFile(Self.config("  daemon", port: heldPort, backend: backend))
        let failed = try Self.launch(taken)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("cannot bind"), "\(failed.stderr)")
        kill(pid, SIGTERM)
    }

    @Test func chrootAndUserAreAppliedAfterBinding() throws {
        guard getuid() == 0, getpwnam("nobody") != nil, getgrnam("nogroup") != nil else { return }
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = Loopback.freePort()
        try running.start("/usr/bin/env", ["python3", HTTPProxyTests.backendScript, "b", "127.0.0.1", String(backend)])
        try running.waitForListener(backend)
        let jail = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-jail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: jail, withIntermediateDirectories: true)
        // Port 80 is privileged: it binds only because the user is dropped afterwards.
        let port = 80
        guard Loopback.connectLoopback(port) == nil else { return }
        let file = try FulcrumProcess.temporaryFile(Self.config("  chroot \(jail.path)\n  user nobody\n  group nogroup", port: port, backend: backend))
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", file.path])
        try running.waitForListener(port)
        let pid = running.processes.last!.processIdentifier
        usleep(200_000)
        let nobody = getpwnam("nobody")!.pointee.pw_uid, nogroup = getgrnam("nogroup")!.pointee.gr_gid
        #expect(Self.status(pid, "Uid")?.split(separator: "\t").first.map(String.init) == String(nobody))
        #expect(Self.status(pid, "Gid")?.split(separator: "\t").first.map(String.init) == String(nogroup))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root")) == jail.path)
        #expect(try HTTPTestConnection.get(port, "/echo")?.status == 200, "traffic flows from inside the jail")
        // Paused and resumed without root: the socket was kept, not bound again.
        kill(pid, SIGTTOU)
        var paused = false
        for _ in 0..<100 where !paused {
            if let fd = Loopback.connectLoopback(port) { close(fd); usleep(20_000) } else { paused = true }
        }
        #expect(paused, "SIGTTOU: the port refuses connections")
        kill(pid, SIGTTIN)
        try running.waitForListener(port)
        #expect(try HTTPTestConnection.get(port, "/echo")?.status == 200, "SIGTTIN: listening again on port 80 as nobody")
    }

    @Test func sigttouPausesListenersAndSigttinResumesThem() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = Loopback.freePort(), port = Loopback.portOutsideEphemeralRange()
        try running.start("/usr/bin/env", ["python3", HTTPProxyTests.backendScript, "b", "127.0.0.1", String(backend)])
        try running.waitForListener(backend)
        let file = try FulcrumProcess.temporaryFile(Self.config("", port: port, backend: backend))
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", file.path])
        try running.waitForListener(port)
        let pid = running.processes.last!.processIdentifier
        let inFlight = try HTTPTestConnection(port: port)
        // Accepted for sure (a connection still in the kernel's queue is reset by the
        // pause, as with HAProxy).
        inFlight.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try inFlight.readResponse()?.status == 200)
        kill(pid, SIGTTOU)
        var released = false
        for _ in 0..<100 where !released {
            if let fd = Loopback.connectLoopback(port) { close(fd); usleep(20_000) } else { released = true }
        }
        #expect(released, "SIGTTOU: the port refuses new connections")
        inFlight.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try inFlight.readResponse()?.status == 200, "connections in flight go on")
        kill(pid, SIGTTIN)
        try running.waitForListener(port)
        kill(pid, SIGTTIN)
        usleep(100_000)
        #expect(try HTTPTestConnection.get(port, "/echo")?.status == 200, "a second SIGTTIN leaves the listeners alone")
    }

    /// SIGUSR1 as HAProxy's soft stop: idle keep-alive connections (parked or on their
    /// channel) close at once, a keep-alive request in flight is answered and its
    /// connection then closed, and the process exits without waiting for the keep-alive
    /// timeout (30 s here).
    @Test(arguments: ["", "  tune.park-idle-clients off\n"]) func sigusr1ClosesIdleKeepAliveConnections(global: String) throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = Loopback.freePort()
        try running.start("/usr/bin/env", ["python3", HTTPProxyTests.backendScript, "b", "127.0.0.1", String(backend)])
        try running.waitForListener(backend)
        let port = Loopback.portOutsideEphemeralRange()
        let file = try FulcrumProcess.temporaryFile(Self.config(global + "  stats socket \(NSTemporaryDirectory())fulcrum-soft-\(port).sock level admin",
                                                                  port: port, backend: backend)
            .replacingOccurrences(of: "defaults\n", with: "defaults\n  timeout http-keep-alive 30s\n"))
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", file.path])
        try running.waitForListener(port)
        let process = running.processes.last!
        let idle = try (0..<3).map { _ in try HTTPTestConnection(port: port) }
        for c in idle {
            c.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse()?.status == 200)
        }
        let busy = try HTTPTestConnection(port: port)
        busy.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try busy.readResponse()?.status == 200)
        usleep(400_000)
        let parked = try RuntimeAPICommandTests.ask("\(NSTemporaryDirectory())fulcrum-soft-\(port).sock", "show info")
        #expect(parked.contains("ParkedConns: \(global.isEmpty ? 4 : 0)\n"), "the idle connections are parked or not, as configured")
        busy.send("GET /slow?ms=600 HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(200_000)
        let start = Date()
        kill(process.processIdentifier, SIGUSR1)
        for c in idle {
            #expect(try c.readToEnd().isEmpty, "an idle connection is closed without a byte")
        }
        #expect(Date().timeIntervalSince(start) < 0.3, "idle connections close at once")
        let answer = try busy.readResponse()
        #expect(answer?.status == 200, "the request in flight is answered")
        #expect(answer?.header("Connection") == "close", "and says the connection closes, as HAProxy's")
        #expect(try busy.readToEnd().isEmpty, "then its connection is closed")
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        #expect(!process.isRunning, "the process exits without waiting for the keep-alive timeout")
        #expect(Date().timeIntervalSince(start) < 2)
    }

    /// SIGUSR1: the listeners go at once, the request in flight is answered, then the
    /// process exits by itself. SIGTERM: the process exits at once, in-flight or not.
    @Test func sigusr1FinishesInFlightWorkAndSigtermStopsAtOnce() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = Loopback.freePort()
        try running.start("/usr/bin/env", ["python3", HTTPProxyTests.backendScript, "b", "127.0.0.1", String(backend)])
        try running.waitForListener(backend)
        for signal in [SIGUSR1, SIGTERM] {
            let port = Loopback.portOutsideEphemeralRange()
            let file = try FulcrumProcess.temporaryFile(Self.config("", port: port, backend: backend))
            try running.start(FulcrumProcess.binary.path, ["-db", "-f", file.path])
            try running.waitForListener(port)
            let process = running.processes.last!
            let inFlight = try HTTPTestConnection(port: port)
            inFlight.send("GET /slow?ms=1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            usleep(200_000)
            let start = Date()
            kill(process.processIdentifier, signal)
            if signal == SIGUSR1 {
                var released = false
                for _ in 0..<50 where !released {
                    if let fd = Loopback.connectLoopback(port) { close(fd); usleep(10_000) } else { released = true }
                }
                #expect(released, "SIGUSR1 stops accepting at once")
                #expect(process.isRunning, "and keeps serving what is in flight")
                #expect(try inFlight.readResponse()?.status == 200, "the request in flight is answered")
                for _ in 0..<100 where process.isRunning { usleep(20_000) }
                #expect(!process.isRunning, "then the process exits by itself")
                #expect(process.terminationStatus == 0)
            } else {
                for _ in 0..<100 where process.isRunning { usleep(10_000) }
                #expect(!process.isRunning, "SIGTERM stops the process at once")
                #expect(Date().timeIntervalSince(start) < 0.8, "before the in-flight request could finish")
                let cut = try? inFlight.readResponse()
                #expect(cut == nil, "the in-flight connection is cut: \(String(decoding: cut?.raw ?? [], as: UTF8.self))")
            }
        }
    }
}
