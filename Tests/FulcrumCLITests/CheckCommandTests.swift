import Foundation
import Testing

/// `fulcrum -c` and the other haproxy-compatible flags, run as a real process.
@Suite struct CheckCommandTests {
    let errors = ["ERRORS": FulcrumProcess.repositoryRoot.appendingPathComponent("examples/errors").path]

    @Test func seed000IsValidWithLegacyWarnings() throws {
        let run = try FulcrumProcess.run(["-c", "-f", "examples/seed-000-openio.cfg"], environment: errors)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "Configuration file is valid\n")
        #expect(run.stderr.contains("parsing [examples/seed-000-openio.cfg:14] : 'nbproc' is not supported by HAProxy since 2.5"))
        #expect(run.stderr.contains("nbthread 4"))
        #expect(run.stderr.contains("parsing [examples/seed-000-openio.cfg:61] : 'reqadd'"))
        #expect(run.stderr.contains("http-request add-header X-Forwarded-Proto http"))
        #expect(!run.stderr.contains("[ALERT]"))
    }

    @Test func seed002IsValid() throws {
        let run = try FulcrumProcess.run(["-c", "-f", "examples/seed-002-openstack.cfg"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "Configuration file is valid\n")
        #expect(run.stderr.isEmpty)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/etc/haproxy/haproxy.cfg")))
    func debianStockConfigurationIsValid() throws {
        let run = try FulcrumProcess.run(["-c", "-f", "/etc/haproxy/haproxy.cfg"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "Configuration file is valid\n")
    }

    @Test func brokenConfigurationExitsOneWithHAProxyStyleAlerts() throws {
        let file = try FulcrumProcess.temporaryFile("global\n  nbthread zero\nfrontend f\n  bind :8080\n  default_backend nope\n")
        let run = try FulcrumProcess.run(["-c", "-f", file.path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("[ALERT]    (") && $0.contains(") : config : parsing [\(file.path):2] : 'nbthread' expects an integer, got 'zero'.") })
        #expect(lines.contains { $0.contains("parsing [\(file.path):5] : Proxy 'f': unable to find required default_backend: 'nope'.") })
        #expect(lines.last?.hasSuffix("Fatal errors found in configuration.") == true)
    }

    @Test func quietPrintsOnlyAlerts() throws {
        let run = try FulcrumProcess.run(["-c", "-q", "-f", "examples/seed-000-openio.cfg"], environment: errors)
        #expect(run.status == 0)
        #expect(run.stdout.isEmpty && run.stderr.isEmpty)
    }

    @Test func zeroWarningModeRefusesWarnings() throws {
        let run = try FulcrumProcess.run(["-c", "-dW", "-f", "examples/seed-000-openio.cfg"], environment: errors)
        #expect(run.status == 1)
        #expect(run.stderr.contains("zero-warning"))
    }

    @Test func severalFilesAndADirectory() throws {
        let dir = try FulcrumProcess.temporaryFile("global\n  daemon\n", name: "00-global.cfg").deletingLastPathComponent()
        try "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n".write(to: dir.appendingPathComponent("10-defaults.cfg"), atomically: true, encoding: .utf8)
        try "frontend f\n  bind :9\n  default_backend b\n".write(to: dir.appendingPathComponent("20-fe.cfg"), atomically: true, encoding: .utf8)
        let backend = try FulcrumProcess.temporaryFile("backend b\n  mode http\n  server s 127.0.0.1:1\n  timeout server 1s\n  timeout connect 1s\n")
        let run = try FulcrumProcess.run(["-c", "-f", dir.path, "-f", backend.path])
        #expect(run.status == 0, "\(run.stderr)")
        let reversed = try FulcrumProcess.run(["-c", "-f", backend.path])
        #expect(reversed.status == 0)
    }

    @Test func conditionFlag() throws {
        #expect(try FulcrumProcess.run(["-cc", "version_atleast(2.4) && feature(THREAD)"]).status == 0)
        #expect(try FulcrumProcess.run(["-cc", "defined(FULCRUM_UNSET_VARIABLE)"]).status == 1)
        #expect(try FulcrumProcess.run(["-cc", "defined(X)"], environment: ["X": ""]).status == 0)
        let bad = try FulcrumProcess.run(["-cc", "bogus(1)"])
        #expect(bad.status == 2 && bad.stderr.contains("unknown predicate 'bogus'"))
    }

    @Test func versionAndHelp() throws {
        let v = try FulcrumProcess.run(["-v"])
        #expect(v.status == 0 && v.stdout.hasPrefix("Fulcrum version "))
        let vv = try FulcrumProcess.run(["-vv"])
        #expect(vv.stdout.contains("Feature list : +EPOLL +THREAD"))
        let help = try FulcrumProcess.run(["--help"])
        for flag in ["-f FILE|DIR", "-c ", "-vv", "-db", "-sf PID...", "-st PID...", "-cc EXPR", "-x SOCKET", "-L NAME", "-p PIDFILE", "--print-modern-config"] {
            #expect(help.stdout.contains(flag), "help mentions \(flag)")
        }
        let unknown = try FulcrumProcess.run(["-Z"])
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown option '-Z'"))
        let reload = try FulcrumProcess.run(["-c", "-f", "examples/seed-002-openstack.cfg", "-sf", "123", "456", "-L", "peer1", "-dM", "-p", "/tmp/x.pid"])
        #expect(reload.status == 0, "\(reload.stderr)")
    }

    @Test func keywordDocumentationIsCurrent() throws {
        let run = try FulcrumProcess.run(["--list-keywords"])
        let docs = try String(contentsOf: FulcrumProcess.repositoryRoot.appendingPathComponent("docs/keywords.md"), encoding: .utf8)
        #expect(docs.contains(run.stdout), "docs/keywords.md is out of date: regenerate it with 'swift run fulcrum --list-keywords'")
    }

    @Test func printModernConfigRewritesLegacyLines() throws {
        let run = try FulcrumProcess.run(["--print-modern-config", "-f", "examples/seed-000-openio.cfg"], environment: errors)
        #expect(run.status == 0)
        #expect(run.stdout.contains("    # legacy: nbproc 4\n    nbthread 4\n"))
        #expect(run.stdout.contains("    # legacy: reqadd X-Forwarded-Proto:\\ http\n    http-request add-header X-Forwarded-Proto http\n"))
        #expect(!run.stdout.contains("\n    nbproc"))
    }

    /// The strongest check of a rewrite: HAProxy 2.6, which refuses the seed as printed,
    /// accepts what Fulcrum prints.
    @Test(.enabled(if: FulcrumProcess.which("haproxy") != nil))
    func haproxyAcceptsTheModernisedSeed() throws {
        let original = try FulcrumProcess.run(["-c", "-f", "examples/seed-000-openio.cfg"], environment: errors, executable: FulcrumProcess.which("haproxy"))
        #expect(original.status != 0, "HAProxy 2.6 refuses seed 000 as printed")
        let modern = try FulcrumProcess.run(["--print-modern-config", "-f", "examples/seed-000-openio.cfg"], environment: errors)
        let file = try FulcrumProcess.temporaryFile(modern.stdout)
        let check = try FulcrumProcess.run(["-c", "-f", file.path], environment: errors, executable: FulcrumProcess.which("haproxy"))
        #expect(check.status == 0, "\(check.stderr)")
    }
}
