import Testing
import HAProxyConfig
@testable import FulcrumCore

/// `ring` sections, `log ring@<name>` and `sample` on log targets: what `-c` accepts
/// and the line it names when it refuses (HAProxy 2.6's messages where it has them).
@Suite struct RingConfigTests {
    @Test func ringSectionsAreRead() {
        let (config, diags, _) = compile("""
            global
                log ring@r1 local0
                log ring@buf0 local1
            ring r1
                description "first ring"
                format rfc5424
                maxlen 1200
                size 32764
                timeout connect 5s
                timeout server 10s
                server s1 127.0.0.1:6514 log-proto octet-count
            """)
        #expect(!diags.hasAlerts, "\(diags.alerts)")
        let ring = config.rings.first
        #expect(ring?.name == "r1" && ring?.description == "first ring" && ring?.format == "rfc5424")
        #expect(ring?.maxLength == 1200 && ring?.size == 32764 && ring?.connectTimeout?.milliseconds == 5000)
        #expect(ring?.servers.map(\.name) == ["s1"] && ring?.servers.first?.framing == .octetCount)
        #expect(config.global.logTargets.map(\.destination) == [.ring("r1"), .ring("buf0")])
    }

    @Test func mistakesNameTheirLine() {
        func alerts(_ body: String, global: String = "") -> [String] {
            let (_, diags, _) = compile("global\n" + global + "ring r1\n" + body + "\n")
            return diags.alerts.map { "\($0.location?.line ?? 0): \($0.message)" }
        }
        #expect(alerts("    foo bar") == ["3: unknown statement 'foo'."])
        #expect(alerts("    format nope") == ["3: unknown format 'nope'."])
        #expect(alerts("    maxlen abc") == ["3: invalid size 'abc' for new sink buffer."])
        #expect(alerts("    size 0") == ["3: invalid size '0' for new sink buffer."])
        #expect(alerts("    size 2M") == ["3: ignoring new size '2' that is smaller than current size '16384' for ring 'r1'."])
        #expect(alerts("    server s1") == ["3: 'server' expects <name> and <addr>[:<port>] as arguments."])
        #expect(alerts("    server s1 127.0.0.1:6514 log-proto tcp") == ["3: 'log-proto' expects one of 'legacy' or 'octet-count' but got 'tcp'."])
        #expect(alerts("    timeout connect") == ["3: 'timeout connect' expects <time> as argument."])
        #expect(alerts("    description") == ["3: missing ring description text."])
        #expect(alerts("", global: "    log ring@nope local0\n") == ["2: log : no ring section named 'nope'."])
        let (_, twice, _) = compile("ring r1\nring r1\n")
        #expect(twice.alerts.map(\.message) == ["sink named 'r1' already exists."] && twice.alerts.first?.location?.line == 2)
        let (config, long, _) = compile("ring r1\n    maxlen 100000\n")
        #expect(long.warnings.map(\.message) == ["ring 'r1' event max length '100000' exceeds size, forced to size '16384'."])
        #expect(config.rings.first?.maxLength == 16384)
    }

    /// HAProxy builds every line in a buffer of the largest `len` of the file.
    @Test func lineLimitIsTheLargestLen() {
        #expect(compile("global\n    log 127.0.0.1 len 80 local0\n").0.global.logLineLimit == 80)
        #expect(compile("global\n    log 127.0.0.1 len 80 local0\ndefaults\n    log 127.0.0.1 local0\n").0.global.logLineLimit == 1024)
        #expect(compile("global\n    log 127.0.0.1 len 2000 local0\ndefaults\n    log ring@buf0 len 100 local0\n").0.global.logLineLimit == 2000)
    }

    @Test func sampling() throws {
        let sample = try LogSampling(parsing: "1-2,5:10")
        #expect((0..<20).filter(sample.takes) == [0, 1, 4, 10, 11, 14])
        func refusal(_ text: String) -> String? {
            do throws(ConfigError) { _ = try LogSampling(parsing: text); return nil } catch { return error.message }
        }
        #expect(refusal("0:3") == "log : wrong sample range '0'")
        #expect(refusal("3-1:5") == "log : wrong sample range '3-1'")
        #expect(refusal("a:3") == "log : wrong sample range 'a'")
        #expect(refusal("1") == "log : Missing sample size")
        #expect(refusal("1:0") == "log : wrong sample size '0' for sample range '1'")
        #expect(refusal("2,2:3") == "log : ranges are overlapping")
        #expect(refusal("4:3") == "log : sample size 3 should be greater or equal to 4 the maximum of the high ranges limits")
        let (_, diags, _) = compile("global\n    log 127.0.0.1 sample 1-3,2:5 local0\n")
        #expect(diags.alerts.map { "\($0.location?.line ?? 0): \($0.message)" } == ["2: log : ranges are overlapping"])
    }
}

/// `capture cookie`: what `%CC` and `%CS` keep (HAProxy 2.6 measured).
@Suite struct CaptureCookieTests {
    @Test func capturesAsHAProxy() {
        let capture = CaptureCookie(name: "SRV", length: 12)
        func text(_ b: [UInt8]?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }
        #expect(text(capture.captureRequest(Array("x=1; SRV=a; SRVX=zz".utf8))) == "SRV=a")
        #expect(text(capture.captureRequest(Array("  SRVLONGNAME=0123456789  ; o=1".utf8))) == "SRVLONGNAME=")
        #expect(capture.captureRequest(Array("x=1".utf8)) == nil)
        #expect(text(capture.captureResponse(Array("SRV=orig; Path=/".utf8))) == "SRV=orig")
        let (config, diags, _) = compile("defaults\n    mode http\n" + timeouts + "frontend f\n    bind :80\n    capture cookie SRV len 100\n")
        #expect(config.proxies.first?.captureCookie == CaptureCookie(name: "SRV", length: 63))
        #expect(diags.warnings.map(\.message).contains("truncating capture length to 63 bytes for frontend 'f'."))
        let (_, bad, _) = compile("frontend f\n    bind :80\n    capture cookie SRV\n")
        #expect(bad.alerts.map(\.message) == ["'capture' expects 'cookie' <cookie_name> 'len' <len>."])
    }
}
