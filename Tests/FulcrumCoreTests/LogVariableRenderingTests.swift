import Testing
import HAProxyConfig
@testable import FulcrumCore

/// The pure pieces behind the log-format variables: the request line cut into `%HM`,
/// `%HU`, `%HP`, `%HPO`, `%HQ`, `%HV`, the `#XX` and `E` escapes, and the dates, each
/// checked against what HAProxy 2.6 printed for the same input.
@Suite struct LogVariableRenderingTests {
    func text(_ s: ArraySlice<UInt8>) -> String { String(decoding: s, as: UTF8.self) }

    @Test func requestLinePieces() {
        let origin = RequestLineParts(Array("GET /echo?a=1&b=2 HTTP/1.1".utf8))
        #expect(text(origin.method) == "GET")
        #expect(text(origin.uri) == "/echo?a=1&b=2")
        #expect(text(origin.path) == "/echo")
        #expect(text(origin.pathOnly) == "/echo")
        #expect(text(origin.query) == "?a=1&b=2")
        #expect(text(origin.version) == "HTTP/1.1")

        let absolute = RequestLineParts(Array("GET http://e/p/a?z=1 HTTP/1.0".utf8))
        #expect(text(absolute.path) == "http://e/p/a")
        #expect(text(absolute.pathOnly) == "/p/a")
        #expect(text(absolute.query) == "?z=1")

        let bare = RequestLineParts(Array("GET / HTTP/1.1".utf8))
        #expect(text(bare.query).isEmpty)
        #expect(text(RequestLineParts(Array("GET /old".utf8)).version) == "HTTP/0.9")
        #expect(text(RequestLineParts(Array("CONNECT host:443 HTTP/1.1".utf8)).pathOnly).isEmpty)

        let bad = RequestLineParts(nil)
        for piece in [bad.method, bad.uri, bad.path, bad.pathOnly, bad.query, bad.version] { #expect(text(piece) == "<BADREQ>") }
        // Only a verb: no URI, no version.
        let verb = RequestLineParts(Array("GET".utf8))
        #expect(text(verb.method) == "<BADREQ>" && text(verb.uri) == "<BADREQ>" && text(verb.version) == "<BADREQ>")
    }

    @Test func escapes() {
        func encode(_ s: String, _ map: LogEscaping.Map, escape: Bool) -> String {
            var out: [UInt8] = []
            LogEscaping.encode(Array(s.utf8), map, escape: escape, into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        // HAProxy 2.6: `/echo?a=1&b="q"]\` and a Host of `h"{|}]\x`.
        #expect(encode("/echo?a=1&b=\"q\"]\\", .url, escape: false) == "/echo?a=1&b=#22q#22]\\")
        #expect(encode("/echo?a=1&b=\"q\"]\\", .url, escape: true) == "/echo?a=1&b=#22q#22\\]\\\\")
        #expect(encode("h\"{|}]\\x", .header, escape: false) == "h#22#7B#7C#7D]\\x")
        #expect(encode("h\"{|}]\\x", .header, escape: true) == "h#22#7B#7C#7D\\]\\\\x")
        #expect(encode("a\u{1}b\u{7f}", .url, escape: false) == "a#01b#7F")
        var out: [UInt8] = []
        LogEscaping.text(Array("h\"{|}]\\x".utf8), escape: true, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "h\\\"{|}\\]\\\\x")
    }

    @Test func dates() {
        var out: [UInt8] = []
        LogDate.withZone(LogDate.gmt(1_795_629_656), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "25/Nov/2026:18:00:56 +0000")
        out = []
        var local = LogDate.gmt(1_795_629_656 - 5 * 3600)
        local.gmtOffset = -5 * 3600
        LogDate.withZone(local, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "25/Nov/2026:13:00:56 -0500")
        // Leap days and the epoch.
        let leap = LogDate.gmt(951_782_400)   // 2000-02-29 00:00:00
        #expect((leap.year, leap.month, leap.day) == (2000, 1, 29))
        let epoch = LogDate.gmt(0)
        #expect((epoch.year, epoch.month, epoch.day, epoch.hour) == (1970, 0, 1, 0))
    }

    /// HAProxy 2.6 refuses the HTTP-only variables in a TCP proxy's format.
    @Test func httpVariablesInATCPFrontendAreRefused() {
        let (_, diags, _) = compile("defaults\n    mode tcp\n" + timeouts + "frontend fe\n    bind :8080\n    log-format \"%ci %HM\"\n    default_backend b\nbackend b\n    server s 127.0.0.1:80\n")
        #expect(diags.alerts.map(\.message) == ["frontend 'fe': failed to parse log-format : format variable 'HM' is reserved for HTTP mode."], "\(diags.alerts)")
        #expect(diags.alerts.first?.location?.line == 8)
        let (_, fine, _) = compile("defaults\n    mode tcp\n" + timeouts + "frontend fe\n    bind :8080\n    log-format \"%ci %ST %tsc %hr %Tu %H\"\n    default_backend b\nbackend b\n    server s 127.0.0.1:80\n")
        #expect(!fine.hasAlerts, "\(fine.alerts)")
        #expect(LogVariable.allCases.filter(\.needsHTTP).map(\.rawValue).sorted() == ["CC", "CS", "HM", "HP", "HPO", "HQ", "HU", "HV", "TR", "Ta", "Ti", "Tq", "Tr", "r", "tr", "trg", "trl"])
    }
}
