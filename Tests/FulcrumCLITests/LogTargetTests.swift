import Foundation
import Testing

/// Log lines and where they go, on the real `fulcrum` process next to HAProxy 2.6 on
/// the same configuration: the log-format variables with their flags, `ring@` targets
/// read back with `show events`, `sample` on targets, and `option log-health-checks`.
@Suite(.serialized) struct LogTargetTests {
    typealias SyslogListener = AccessLogTests.SyslogListener

    /// The message of each syslog line, after `<PRI>date tag[pid]: `.
    static func messages(_ lines: [String]) -> [String] {
        lines.map { line in
            guard let start = line.range(of: "]: ") else { return line }
            return String(line[start.upperBound...]).trimmingCharacters(in: .newlines)
        }
    }

    static var hostname: String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends each raw request on its own connection and reads the answer to its end.
    static func send(_ port: Int, _ requests: [String]) throws {
        for request in requests {
            let c = try HTTPTestConnection(port: port)
            c.send(request)
            _ = try? c.readToEnd()
        }
    }

    /// Every variable whose value does not change from run to run, with the quote,
    /// hexadecimal and escape flags, on a request with characters that need escaping,
    /// an absolute URI, a bare path and a bad request: the same lines as HAProxy's.
    @Test(.enabled(if: ACLIntegrationTests.haproxy != nil)) func variablesAndFlagsAsHAProxyPrintsThem() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let backend = try HTTPProxyTests().startBackends(running, ["a"])[0]
        let listeners = [try SyslogListener(), try SyslogListener()]
        let formats = [
            "HM=%HM HP=%HP HPO=%HPO HQ=%HQ HU=%HU HV=%HV CC=%CC CS=%CS H=%H ID=%ID ST=%ST b=%b ci=%ci bi=%bi si=%si f=%f ft=%ft lc=%lc hr=%hr hrl=%hrl hs=%hs hsl=%hsl r=%r s=%s sslc=%sslc sslv=%sslv ts=%ts tsc=%tsc Th=%Th rc=%rc",
            "%{+Q}o HM=%HM HQ=%HQ HV=%HV CC=%CC H=%H ID=%ID ST=%ST b=%b ci=%ci bi=%bi bp=%{-X}bp si=%si f=%f hr=%hr hrl=%hrl hsl=%hsl r=%r sslc=%sslc [%[src]] [%[var(txn.none)]]",
            "%{+X}o ci=%ci fi=%fi bi=%bi si=%si lc=%lc ST=%ST rc=%rc [%[src]] %{+E}r %{+E}hr %{+E}hrl %{+E}HU %{+E}HQ %{+E,+Q}HV %{+E}[var(txn.host)] [%[var(txn.host)]] %{+E}ID",
            "  lead  merged %HQ  %hs  after-empty-capture %hr  end ",
        ]
        func config(_ ports: [Int], _ k: Int) -> String {
            "global\n  log 127.0.0.1:\(listeners[k].port) local0\n" + HTTPProxyTests.httpDefaults(extra: "    log global\n    option dontlognull\n")
                + formats.enumerated().map { n, format in
                    """
                    frontend fe\(n)
                        bind 127.0.0.1:\(ports[n])
                        capture request header Host len 20
                        capture request header X-Missing len 20
                        capture response header X-Backend len 20
                        http-request set-var(txn.host) req.hdr(host)
                        log-format "\(format)"
                        default_backend b

                    """
                }.joined() + "backend b\n    server s1 127.0.0.1:\(backend)\n"
        }
        let ports = (0..<2).map { _ in formats.map { _ in Loopback.freePort() } }
        _ = try HTTPProxyTests().startFulcrum(running, config(ports[0], 0), waitFor: ports[0].last!)
        try running.start(ACLIntegrationTests.haproxy!.path, ["-db", "-f", try FulcrumProcess.temporaryFile(config(ports[1], 1)).path])
        try running.waitForListener(ports[1].last!)
        let requests = [
            "GET /echo?a=1&b=\"q\"]\\ HTTP/1.1\r\nHost: h\"{|}]\\x\r\nConnection: close\r\n\r\n",
            "GET http://e/p/a?z=1 HTTP/1.0\r\nHost: e\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n",
            "NOT HTTP\r\n\r\n",
        ]
        var seen: [[String]] = [[], []]
        for k in 0..<2 {
            for n in 0..<formats.count {
                _ = listeners[k].drain()
                try Self.send(ports[k][n], requests)
                usleep(300_000)
                // The server connection's own port changes from run to run.
                seen[k] += Self.messages(listeners[k].drain()).map { $0.replacing(/bp=\d+/, with: "bp=N") }
            }
        }
        #expect(seen[0].count == formats.count * requests.count, "\(seen[0])")
        for (mine, reference) in zip(seen[0], seen[1]) {
            #expect(mine == reference, "Fulcrum:\n\(mine)\nHAProxy:\n\(reference)")
        }
        #expect(seen[0].first == "HM=GET HP=/echo HPO=/echo HQ=?a=1&b=#22q#22]\\ HU=/echo?a=1&b=#22q#22]\\ HV=HTTP/1.1 CC=- CS=- H=\(Self.hostname) ID=- ST=200 b=b ci=127.0.0.1 bi=127.0.0.1 si=127.0.0.1 f=fe0 ft=fe0 lc=0 hr={h#22#7B#7C#7D]\\x|} hrl=h#22#7B#7C#7D]\\x - hs={a} hsl=a r=GET /echo?a=1&b=#22q#22]\\ HTTP/1.1 s=s1 sslc=- sslv=- ts=-- tsc=---- Th=0 rc=0")
    }
}
