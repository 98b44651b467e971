import Foundation
import Testing

/// Drives the namespace lab (`Tests/Fixtures/vrrp-lab/lab`): one bridge, hosts h1..hN,
/// a client, real keepalived on some hosts and `fulcrum-vrrp` on others.
/// Every test that uses the lab, one at a time: there is one lab per machine.
@Suite(.serialized, .enabled(if: VRRPLab.available, "needs root, network namespaces, keepalived, tcpdump, tshark and arping"))
struct VRRPLabTests {}

enum VRRPLab {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let labDirectory = repositoryRoot.appendingPathComponent("Tests/Fixtures/vrrp-lab")
    static let script = labDirectory.appendingPathComponent("lab").path
    static let vip = "10.99.0.50"

    static func example(_ scenario: String, _ host: String) -> String {
        labDirectory.appendingPathComponent("examples/\(scenario)/\(host).conf").path
    }

    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [beside, beside.deletingLastPathComponent(), beside.deletingLastPathComponent().deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("fulcrum-vrrp")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        return repositoryRoot.appendingPathComponent(".build/debug/fulcrum-vrrp").path
    }

    /// Why the lab cannot run here, or nil when it can: it needs root (namespaces, raw
    /// sockets), iproute2, keepalived, tcpdump, tshark and arping.
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "VRRP lab tests need root (network namespaces, raw sockets)" }
        let missing = ["ip", "keepalived", "tcpdump", "tshark", "arping", "bash"].filter { tool in
            !["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"].contains {
                FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
            }
        }
        guard missing.isEmpty else { return "VRRP lab tests need \(missing.joined(separator: ", ")) (scripts/test installs them)" }
        let probe = run(["/usr/sbin/ip", "netns", "add", "fvrrp-probe"])
        _ = run(["/usr/sbin/ip", "netns", "del", "fvrrp-probe"])
        guard probe.status == 0 else { return "cannot create network namespaces here: \(probe.stderr)" }
        return nil
    }()

    static var available: Bool {
        if let reason = unavailableReason {
            print("skipping VRRP lab tests: \(reason)")
            return false
        }
        return true
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// posix_spawn with stdout and stderr in temporary files and a plain waitpid: the
    /// lab leaves daemons running in the background, so nothing may wait for pipes to close.
    @discardableResult
    static func run(_ argv: [String]) -> Output {
        let dir = FileManager.default.temporaryDirectory.path
        let outPath = "\(dir)/fulcrum-vrrp-lab-\(UUID().uuidString).out", errPath = outPath + ".err"
        defer { unlink(outPath); unlink(errPath) }
        var files = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&files)
        defer { posix_spawn_file_actions_destroy(&files) }
        posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&files, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&files, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        // The lab's daemons outlive this call: they must not inherit the sockets that tests
        // running in parallel have open, or those never close for their peers. A shell
        // closes every descriptor above 2 before it execs the command.
        let closer = "for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ \"$fd\" -gt 2 ] && eval \"exec $fd>&-\"; done; exec \"$@\""
        let wrapped = ["/bin/bash", "-c", closer, "bash"] + argv
        var cArgs: [UnsafeMutablePointer<CChar>?] = wrapped.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &files, &attributes, &cArgs, environ)
        guard rc == 0 else { return Output(status: -1, stdout: "", stderr: "spawn \(argv[0]): \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Output(status: exitStatus, stdout: out, stderr: err)
    }

    @discardableResult
    static func lab(_ args: String...) -> Output { run(["/bin/bash", script] + args) }

    static func labArgs(_ args: [String]) -> Output { run(["/bin/bash", script] + args) }

    static func up(_ hosts: Int) throws {
        lab("down")
        let r = lab("up", String(hosts))
        guard r.status == 0 else { throw LabError("lab up: \(r.stderr)") }
    }

    static func down() { lab("down") }

    static func startFulcrum(_ host: String, config: String) throws {
        let r = labArgs(["start", host, binary, "-n", "-l", "-D", "--no-syslog", "-f", config, "-i", host])
        guard r.status == 0 else { throw LabError("start fulcrum-vrrp on \(host): \(r.stderr)") }
    }

    static func startKeepalived(_ host: String, config: String) throws {
        let r = lab("keepalived", host, config)
        guard r.status == 0 else { throw LabError("keepalived on \(host): \(r.stderr)") }
    }

    /// `EPOCHREALTIME`-style timestamp for `--since`.
    static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let us = ts.tv_nsec / 1000
        let frac = String(us)
        return "\(ts.tv_sec)." + String(repeating: "0", count: 6 - frac.count) + frac
    }

    /// `lab kill`/`stop`/`crash` print the `EPOCHREALTIME` at which the signal was sent
    /// ("... at 1795620889.680440"); measuring from it leaves out the lab script's own
    /// start-up, which is slow when the other suites load the machine.
    static func signalTime(_ output: Output, fallback: String) -> String {
        guard let range = output.stderr.range(of: " at ", options: .backwards) else { return fallback }
        let stamp = output.stderr[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return stamp.contains(".") ? String(stamp) : fallback
    }

    struct Owner {
        var host: String
        var milliseconds: Int
        var alsoHeldBy: String?
    }

    /// `lab wait-owner`: the first host (other than / equal to one) holding the VIP and,
    /// with `arp`, the client's ARP entry pointing at it.
    static func waitOwner(not: String? = nil, host: String? = nil, arp: Bool = true, since: String, timeout: Int = 15, vip: String = VRRPLab.vip) throws -> Owner {
        // Polling every 30 ms instead of the lab's 10 ms: each poll forks `ip` per host,
        // and the other test suites share the two cores.
        var args = ["wait-owner", vip, "--since", since, "--timeout", String(timeout), "--interval", "0.03"]
        if let not { args += ["--not", not] }
        if let host { args += ["--host", host] }
        if arp { args.append("--arp") }
        let r = labArgs(args)
        let words = r.stdout.split(separator: " ").map(String.init)
        guard r.status == 0, words.count >= 2, let ms = Int(words[1].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabError("wait-owner \(args.joined(separator: " ")): \(r.stdout) \(r.stderr)\n\(logs())")
        }
        return Owner(host: words[0], milliseconds: ms, alsoHeldBy: words.count > 2 ? words[2].trimmingCharacters(in: .whitespacesAndNewlines) : nil)
    }

    static func logs() -> String {
        ["h1", "h2", "h3"].map { h in
            "---- \(h)\n" + ((try? String(contentsOfFile: "/tmp/vrrp-lab/\(h).log", encoding: .utf8))?.split(separator: "\n").suffix(25).joined(separator: "\n") ?? "")
        }.joined(separator: "\n")
    }

    static func median(_ values: [Int]) -> Int {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
