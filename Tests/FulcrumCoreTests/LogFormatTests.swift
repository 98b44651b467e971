import Testing
import HAProxyConfig
@testable import FulcrumCore

@Suite struct LogFormatTests {
    @Test func seedUniqueIDFormat() throws {
        let format = try LogFormat(parsing: "%{+X}o %ci:%cp_%fi:%fp_%Ts_%rt:%pid")
        // `%{+X}o` only sets flags, and the space after it goes too: HAProxy 2.6's IDs
        // (and log lines) start with the address (measured side by side).
        #expect(format.nodes == [
            .variable(.clientIP, .hex), .literal([UInt8(ascii: ":")]), .variable(.clientPort, .hex),
            .literal([UInt8(ascii: "_")]), .variable(.frontendIP, .hex), .literal([UInt8(ascii: ":")]), .variable(.frontendPort, .hex),
            .literal([UInt8(ascii: "_")]), .variable(.timestamp, .hex), .literal([UInt8(ascii: "_")]), .variable(.requestCounter, .hex),
            .literal([UInt8(ascii: ":")]), .variable(.pid, .hex),
        ])
    }

    @Test func flagsSamplesAndLiterals() throws {
        let format = try LogFormat(parsing: "%{+Q}r %[src] 100%% %{+X,-Q}o%{+Q}ci")
        #expect(format.nodes == [
            .variable(.requestLine, .quote), .literal(Array(" ".utf8)), .sample("src", []), .literal(Array(" 100% ".utf8)),
            .variable(.clientIP, [.hex, .quote]),
        ])
        #expect(try LogFormat(parsing: "plain text").isConstant)
        #expect(try LogFormat(parsing: "plain text").constantBytes == Array("plain text".utf8))
    }

    @Test func mistakesAreRefused() {
        #expect(throws: ConfigError.self) { try LogFormat(parsing: "%zz") }
        #expect(throws: ConfigError.self) { try LogFormat(parsing: "trailing %") }
        #expect(throws: ConfigError.self) { try LogFormat(parsing: "%{+Q r") }
        #expect(throws: ConfigError.self) { try LogFormat(parsing: "%[src") }
        #expect(throws: ConfigError.self) { try LogFormat(parsing: "%{+Z}r") }
        #expect(throws: ConfigError.self) { try LogFormat(parsing: "% r") }
    }

    @Test func headerRulesCompile() throws {
        let location = SourceLocation(file: "t.cfg", line: 1)
        let files = PatternFiles(readFile: { _ in nil })
        func compile(_ action: String, _ args: [String]) throws -> HTTPRuleAction {
            try HTTPRuleAction.compile(HTTPRuleConfig(action: action, arguments: args, condition: nil, location: location), files: files)
        }
        guard case .addHeader("X-A", let value) = try compile("add-header", ["X-A", "%[src]"]) else { Issue.record("add-header"); return }
        #expect(value.nodes == [.sample("src", [])])
        guard case .replaceHeader("X", "^a(.*)", _) = try compile("replace-header", ["X", "^a(.*)", "b\\1"]) else { Issue.record("replace-header"); return }
        #expect(throws: ConfigError.self) { try compile("add-header", ["X-A"]) }
        #expect(throws: ConfigError.self) { try compile("set-header", ["X", "v", "extra"]) }
        #expect(throws: ConfigError.self) { try compile("replace-header", ["X", "(", "y"]) }
        #expect(throws: ConfigError.self) { try compile("deny", ["deny_status", "999"]) }
        #expect(throws: ConfigError.self) { try compile("capture", ["req.hdr(host)"]) }
        #expect(throws: ConfigError.self) { try compile("capture", ["req.hdr(host)", "len", "x"]) }
        guard case .waitForBody = try compile("wait-for-body", ["time", "1s", "at-least", "1k"]) else { Issue.record("wait-for-body"); return }
        #expect(throws: ConfigError.self) { try compile("wait-for-body", ["1s"]) }
    }
}
