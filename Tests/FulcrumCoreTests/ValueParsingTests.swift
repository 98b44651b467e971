import Testing
@testable import FulcrumCore

@Suite struct ValueParsingTests {
    @Test func durations() throws {
        #expect(try DurationValue.parse("100", keyword: "t").milliseconds == 100)
        #expect(try DurationValue.parse("100ms", keyword: "t").milliseconds == 100)
        #expect(try DurationValue.parse("1500us", keyword: "t").milliseconds == 2)
        #expect(try DurationValue.parse("5s", keyword: "t").milliseconds == 5000)
        #expect(try DurationValue.parse("10m", keyword: "t").milliseconds == 600_000)
        #expect(try DurationValue.parse("1h", keyword: "t").milliseconds == 3_600_000)
        #expect(try DurationValue.parse("1d", keyword: "t").milliseconds == 86_400_000)
        #expect(throws: ConfigError.self) { try DurationValue.parse("5x", keyword: "t") }
        #expect(throws: ConfigError.self) { try DurationValue.parse("-1", keyword: "t") }
        #expect(throws: ConfigError.self) { try DurationValue.parse("abc", keyword: "t") }
        #expect(throws: ConfigError.self) { try DurationValue.parse("", keyword: "t") }
        #expect(throws: ConfigError.self) { try DurationValue.parse("25d", keyword: "t") }
        #expect(throws: ConfigError.self) { try DurationValue.parse("99999999999999999999", keyword: "t") }
        #expect(DurationValue(milliseconds: 5000).description == "5s")
        #expect(DurationValue(milliseconds: 1500).description == "1500ms")
    }

    @Test func sizes() throws {
        #expect(try SizeValue.parse("16384", keyword: "s") == 16384)
        #expect(try SizeValue.parse("16k", keyword: "s") == 16384)
        #expect(try SizeValue.parse("2m", keyword: "s") == 2 * 1024 * 1024)
        #expect(try SizeValue.parse("1g", keyword: "s") == 1 << 30)
        #expect(throws: ConfigError.self) { try SizeValue.parse("k", keyword: "s") }
        #expect(throws: ConfigError.self) { try SizeValue.parse("12q", keyword: "s") }
        #expect(throws: ConfigError.self) { try SizeValue.parse("99999999999999999g", keyword: "s") }
    }

    @Test func bindAddresses() throws {
        let any = try AddressSpec.parse(":80", role: .bind)
        #expect(any.kind == .inet(host: "", family: .unspecified) && any.ports == 80...80 && any.isWildcard)
        #expect(try AddressSpec.parse("*:8080", role: .bind).isWildcard)
        #expect(try AddressSpec.parse(":::443", role: .bind).kind == .inet(host: "::", family: .ipv6))
        #expect(try AddressSpec.parse("::1:8081", role: .bind).kind == .inet(host: "::1", family: .ipv6))
        #expect(try AddressSpec.parse("[::1]:8081", role: .bind).ports == 8081...8081)
        #expect(try AddressSpec.parse("ipv4@10.0.0.1:80", role: .bind).kind == .inet(host: "10.0.0.1", family: .ipv4))
        #expect(try AddressSpec.parse("ipv6@::1:80", role: .bind).kind == .inet(host: "::1", family: .ipv6))
        #expect(try AddressSpec.parse("127.0.0.1:8000-8010", role: .bind).ports == 8000...8010)
        #expect(try AddressSpec.parse("unix@/run/x.sock", role: .bind).kind == .unix(path: "/run/x.sock"))
        #expect(try AddressSpec.parse("/run/haproxy/admin.sock", role: .bind).kind == .unix(path: "/run/haproxy/admin.sock"))
        #expect(try AddressSpec.parse("fd@3", role: .bind).kind == .inheritedFD(3))
        #expect(try AddressSpec.parse("abns@foo", role: .bind).kind == .abstractNamespace(name: "foo"))
        for bad in ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:8000-7000", "127.0.0.1:http", "fd@x", "bogus@1.2.3.4:80", "300.1.1.1:80", "1:2:3:80::zz:80"] {
            #expect(throws: ConfigError.self, "\(bad)") { try AddressSpec.parse(bad, role: .bind) }
        }
    }

    @Test func serverAddresses() throws {
        let s = try AddressSpec.parse("10.0.0.1:8080", role: .server)
        #expect(s.ports == 8080...8080 && !s.needsResolution)
        #expect(try AddressSpec.parse("10.0.0.1", role: .server).ports == nil)
        #expect(try AddressSpec.parse("10.0.0.1:+1000", role: .server).portOffset == 1000)
        #expect(try AddressSpec.parse("backend.internal:80", role: .server).needsResolution)
        #expect(throws: ConfigError.self) { try AddressSpec.parse("10.0.0.1:80-90", role: .server) }
        #expect(throws: ConfigError.self) { try AddressSpec.parse("10.0.0.1:99999", role: .server) }
    }

    @Test func suggestions() {
        #expect(Suggestion.closest(to: "timout", in: ["timeout", "mode", "bind"]) == "timeout")
        #expect(Suggestion.closest(to: "defualt_backend", in: ["default_backend", "use_backend"]) == "default_backend")
        #expect(Suggestion.closest(to: "servr", in: ["server", "source"]) == "server")
        #expect(Suggestion.closest(to: "frobnicate", in: ["server", "source"]) == nil)
    }

    @Test func writerQuotesRoundTrip() {
        #expect(ConfigWriter.quote("plain") == "plain")
        #expect(ConfigWriter.quote("a b") == "'a b'")
        #expect(ConfigWriter.quote("it's $x") == #""it's \$x""#)
        #expect(ConfigWriter.quote("") == "''")
    }
}
