import Testing
import HAProxyConfig
import FulcrumHTTP1
@testable import FulcrumCore

/// ACLs, fetches and converters on plain values: a request head parsed from bytes, no
/// sockets.
@Suite struct ACLTests {
    static let files: [String: String] = [
        "/maps/hosts.map": "# host to backend\nexample.com be_www\napi.example.com be_api\n\n",
        "/maps/paths.map": "/static/ be_static\n/static/img/ be_img\n/ be_root\n",
        "/acl/bad-ips.lst": "10.0.0.0/8\n192.168.1.7\n",
        "/acl/broken.lst": "not-an-address\n",
    ]
    let files = PatternFiles(readFile: { ACLTests.files[$0].map { Array($0.utf8) } })

    func context(_ head: String, client: String = "192.0.2.10") throws -> SampleContext {
        let bytes = Array(head.utf8)
        let parsed = try bytes.withUnsafeBytes { try HTTPHeadParser.parseRequest($0) }
        let s = SampleContext()
        s.request = HTTPHeadEditor(bytes: bytes, startLine: parsed.method.lowerBound..<(parsed.target.upperBound + 9), target: parsed.target, headers: parsed.headers)
        s.client = IPNetwork.parse(client)
        s.clientPort = 40000
        s.frontendName = Array("fe".utf8)
        return s
    }

    func acl(_ criterion: String, _ args: String...) throws -> ACL {
        try ACL(criterion: criterion, arguments: args, files: files)
    }

    let request = "GET /static/img/logo.png?v=2&lang=fr HTTP/1.1\r\nHost: WWW.Example.com:8080\r\nCookie: a=1; session=abc\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\nX-Forwarded-For: 3.3.3.3\r\nContent-Length: 0\r\n\r\n"

    @Test func pathMethodsMatchAsHAProxy() throws {
        let s = try context(request)
        #expect(try acl("path", "/static/img/logo.png").matches(s))
        #expect(try !acl("path", "/static").matches(s))
        #expect(try acl("path_beg", "/nope", "/static/").matches(s))
        #expect(try acl("path_end", ".png", ".jpg").matches(s))
        #expect(try acl("path_sub", "img/lo").matches(s))
        #expect(try acl("path_dir", "img").matches(s))
        #expect(try !acl("path_dir", "im").matches(s))
        #expect(try acl("path_reg", "^/static/.*\\.png$").matches(s))
        #expect(try !acl("path_reg", "^/img/").matches(s))
        #expect(try acl("path_reg", "-i", "^/STATIC/IMG/").matches(s))
        #expect(try acl("hdr_reg(host)", "Example\\.com:8080$").matches(s))
        #expect(try acl("url_reg", "lang=fr$").matches(s))
        #expect(try !acl("hdr_reg(host)", "example\\.com").matches(s))
        #expect(try acl("path_len", "20").matches(s))
        #expect(try acl("path", "-m", "beg", "/STATIC", "-i").matches(s) == false) // flags come before patterns
        #expect(try acl("path", "-i", "-m", "beg", "/STATIC").matches(s))
        #expect(try acl("url_param(lang)", "fr").matches(s))
        #expect(try acl("query", "-m", "sub", "v=2").matches(s))
        #expect(try acl("method", "GET", "HEAD").matches(s))
        #expect(try acl("req.ver", "1.1").matches(s))
    }

    @Test func headersIterateOccurrencesAndDomains() throws {
        let s = try context(request)
        #expect(try acl("hdr_dom(host)", "-i", "example.com").matches(s))
        #expect(try !acl("hdr_dom(host)", "-i", "ample.com").matches(s))
        #expect(try acl("hdr(host)", "-i", "www.example.com:8080").matches(s))
        // Every comma-separated value of every occurrence is tried...
        #expect(try acl("hdr(x-forwarded-for)", "2.2.2.2").matches(s))
        #expect(try acl("hdr_ip(x-forwarded-for)", "3.3.3.0/24").matches(s))
        // ... unless an occurrence is named; an expression uses the last one.
        #expect(try !acl("hdr(x-forwarded-for,1)", "2.2.2.2").matches(s))
        let last = try SampleExpression(parsing: "req.hdr(x-forwarded-for)", files: files)
        #expect(last.value(in: s) == .string(Array("3.3.3.3".utf8)))
        let full = try SampleExpression(parsing: "req.fhdr(x-forwarded-for,1)", files: files)
        #expect(full.value(in: s) == .string(Array("1.1.1.1, 2.2.2.2".utf8)))
        #expect(try acl("hdr_cnt(x-forwarded-for)", "eq", "3").matches(s))
        #expect(try acl("req.fhdr_cnt(x-forwarded-for)", "2").matches(s))
        #expect(try acl("hdr_val(content-length)", "eq", "0").matches(s))
        #expect(try acl("cook(session)", "abc").matches(s))
        #expect(try acl("req.hdr(x-missing)", "-m", "found").matches(s) == false)
        #expect(try acl("req.hdr(host)", "-m", "found").matches(s))
        #expect(try acl("req.hdr(host),lower", "-m", "beg", "www.").matches(s))
    }

    @Test func integersAddressesAndOperators() throws {
        let s = try context(request, client: "10.1.2.3")
        #expect(try acl("src", "10.0.0.0/8").matches(s))
        #expect(try acl("src", "192.168.0.0/255.255.0.0", "10.1.2.3").matches(s))
        #expect(try !acl("src", "-f", "/acl/bad-ips.lst").matches(try context(request, client: "192.168.1.8")))
        #expect(try acl("src", "-f", "/acl/bad-ips.lst").matches(s))
        #expect(try acl("src_port", "gt", "1024").matches(s))
        #expect(try acl("src_port", "1024:").matches(s))
        #expect(try !acl("src_port", "lt", "40000").matches(s))
        #expect(try acl("src_port", "le", "40000").matches(s))
        #expect(try acl("always_true").matches(s))
        #expect(try !acl("always_false").matches(s))
    }

    /// String methods on head bytes: the longest `beg` wins, `-i` folds the sample's
    /// side, empty patterns match, and a long `str` list goes through its hash table.
    @Test func stringMethodsOnHeadBytes() throws {
        let s = try context("GET /Static/IMG/a.PNG HTTP/1.1\r\nHost: h\r\n\r\n")
        let beg = try PatternList(method: .beg, ignoreCase: true, entries: [("/static", nil), ("/static/img/", nil), ("/st", nil)])
        #expect(beg.match(bytes: Array("/Static/IMG/a.PNG".utf8)[...])?.key == "/static/img/")
        #expect(try acl("path_end", "-i", ".png").matches(s) && !acl("path_end", ".png").matches(s))
        #expect(try acl("path_sub", "-i", "img/A").matches(s) && !acl("path_sub", "img/a").matches(s))
        #expect(try acl("path_sub", "").matches(s) && acl("path_end", "").matches(s))
        #expect(try !acl("path_beg", "/Static/IMG/a.PNG/more").matches(s))
        let many = (0..<12).map { "/p\($0)" }
        #expect(try acl("path", many + ["/Static/IMG/a.PNG"]).matches(s))
        #expect(try acl("path", "-i", many + ["/static/img/a.png"]).matches(s))
        #expect(try !acl("path", many + ["/static/img/a.png"]).matches(s))
        #expect(try acl("path", "/p1", "/Static/IMG/a.PNG").matches(s))
    }

    func acl(_ criterion: String, _ flag: String, _ patterns: [String]) throws -> ACL {
        try ACL(criterion: criterion, arguments: [flag] + patterns, files: files)
    }

    func acl(_ criterion: String, _ patterns: [String]) throws -> ACL {
        try ACL(criterion: criterion, arguments: patterns, files: files)
    }

    @Test func conditionsCombineAsHAProxy() throws {
        let s = try context(request)
        let named: [String: [ACL]] = [
            "is_static": [try acl("path_beg", "/static")],
            "is_api": [try acl("path_beg", "/api"), try acl("hdr_beg(host)", "-i", "api.")],
            "is_get": [try acl("method", "GET")],
        ]
        func holds(_ words: String, unless: Bool = false) throws -> Bool {
            try ACLCondition(RuleCondition(negated: unless, terms: words.split(separator: " ").map(String.init)), acls: named, files: files).holds(s)
        }
        #expect(try holds("is_static is_get"))
        #expect(try !holds("is_static !is_get"))
        #expect(try holds("is_api || is_static"))
        #expect(try holds("is_api or is_static"))
        #expect(try !holds("is_api"))
        #expect(try holds("! is_api"))
        #expect(try !holds("is_static", unless: true))
        #expect(try holds("{ path_end .png } is_get"))
        #expect(try holds("! { path_end .jpg }"))
        // `!` glued to a brace, doubled, or alone at the end of a word list.
        #expect(try holds("!{ path_end .jpg }"))
        #expect(try !holds("!{ path_end .png }"))
        #expect(try holds("!!is_static !!{ path_end .png }"))
        #expect(try holds("! !is_static"))
        #expect(try holds("METH_GET HTTP_1.1 TRUE"))
        #expect(try !holds("LOCALHOST"))
        #expect(throws: ConfigError.self) { try holds("no_such_acl") }
        #expect(throws: ConfigError.self) { try holds("is_api ||") }
        #expect(throws: ConfigError.self) { try holds("{ path /x") }
        #expect(throws: ConfigError.self) { try holds("is_api && is_get") }
    }

    @Test func mapsAndConverters() throws {
        let s = try context(request)
        func value(_ expression: String) throws -> SampleValue? {
            try SampleExpression(parsing: expression, files: files).value(in: s)
        }
        #expect(try value("req.hdr(host),lower,field(1,:),map_dom(/maps/hosts.map,be_default)") == .string(Array("be_www".utf8)))
        #expect(try value("str(other.org),map_str(/maps/hosts.map,be_default)") == .string(Array("be_default".utf8)))
        #expect(try value("str(other.org),map_str(/maps/hosts.map)") == nil)
        // Longest prefix wins, whatever the file's order.
        #expect(try value("path,map_beg(/maps/paths.map)") == .string(Array("be_img".utf8)))
        #expect(try value("str(Hello),upper") == .string(Array("HELLO".utf8)))
        #expect(try value("str(hello),length") == .integer(5))
        #expect(try value("str(hello),hex") == .string(Array("68656C6C6F".utf8)))
        #expect(try value("str(hello),base64") == .string(Array("aGVsbG8=".utf8)))
        #expect(try value("str(a\"b),json") == .string(Array("a\\\"b".utf8)))
        #expect(try value("str(a/b/c/d),field(2,/)") == .string(Array("b".utf8)))
        #expect(try value("str(a/b/c/d),field(-1,/)") == .string(Array("d".utf8)))
        #expect(try value("str(a/b/c/d),field(2,/,2)") == .string(Array("b/c".utf8)))
        #expect(try value("str(//a//b),word(2,/)") == .string(Array("b".utf8)))
        #expect(try value("str(hello),bytes(1,3)") == .string(Array("ell".utf8)))
        #expect(try value("str(aXbXc),regsub(X,-,g)") == .string(Array("a-b-c".utf8)))
        #expect(try value("str(aXbXc),regsub(X,-)") == .string(Array("a-bXc".utf8)))
        #expect(try value("src,ipmask(24)") == .address([192, 0, 2, 0]))
        #expect(try value("int(7),add(3),mul(2),sub(1),div(2)") == .integer(9))
        #expect(try value("int(7),div(0)") == .integer(Int64.max))
        #expect(try value("str(x),concat(<,,>)") == .string(Array("x<>".utf8)))
        #expect(try value("path,lower,regsub(^/static/,/)") == .string(Array("/img/logo.png".utf8)))
        #expect(try value("str(a%20b+c),url_dec") == .string(Array("a b+c".utf8)))
        #expect(try value("str(/p?q=a+b),url_dec") == .string(Array("/p?q=a b".utf8)))
        #expect(try value("str(a+b),url_dec(1)") == .string(Array("a b".utf8)))
        #expect(try value("str(a%zz),url_dec") == nil)
        #expect(try value("str(f1_f2_f3__f5),field(-2,_,3)") == .string(Array("f2_f3_".utf8)))
        #expect(try value("int(-9223372036854775807),sub(2)") == .integer(Int64.min))
        #expect(try value("int(-9223372036854775807),sub(1),div(-1)") == .integer(Int64.max))
        #expect(try value("str(abc),field(1,b,0)") == .string(Array("abc".utf8)))
        #expect(try value("str(a b/c),url_enc") == .string(Array("a%20b%2Fc".utf8)))
        #expect(try value("str(xxhixx),ltrim(x),rtrim(x)") == .string(Array("hi".utf8)))
        #expect(try value("str(a),djb2") == .integer(177_670))
        #expect(try value("int(12),and(10),or(1),xor(2)") == .integer(11))
        #expect(try value("int(3),odd") == .boolean(true))
        #expect(try value("int(1795626306),http_date") == .string(Array("Wed, 25 Nov 2026 17:05:06 GMT".utf8)))
        #expect(try value("int(1795626306),http_date(3600)") == .string(Array("Wed, 25 Nov 2026 18:05:06 GMT".utf8)))
        #expect(try value("int(0),utime(%Y-%m-%d %H:%M)") == .string(Array("1970-01-01 00:00".utf8)))
    }

    @Test func runtimeChangesToAMapAreSeen() throws {
        let list = try files.list("/maps/hosts.map", method: .str, ignoreCase: false, valueType: .str)
        let expression = try SampleExpression(parsing: "str(new.example),map(/maps/hosts.map,none)", files: files)
        let s = try context(request)
        #expect(expression.value(in: s) == .string(Array("none".utf8)))
        try list.add(key: "new.example", value: "be_new")
        #expect(expression.value(in: s) == .string(Array("be_new".utf8)))
        #expect(try list.set(key: "new.example", value: "be_newer"))
        #expect(expression.value(in: s) == .string(Array("be_newer".utf8)))
        #expect(list.delete(key: "new.example"))
        #expect(!list.delete(key: "new.example"))
        #expect(expression.value(in: s) == .string(Array("none".utf8)))
        #expect(list.entries.map(\.key) == ["example.com", "api.example.com"])
    }

    @Test func mistakesAreConfigurationErrors() {
        #expect(throws: ConfigError.self) { try acl("no_such_fetch", "x") }
        #expect(throws: ConfigError.self) { try acl("hdr", "x") }
        #expect(throws: ConfigError.self) { try acl("path,no_such_conv", "x") }
        #expect(throws: ConfigError.self) { try acl("path", "-m", "nope", "x") }
        #expect(throws: ConfigError.self) { try acl("path_reg", "(unclosed") }
        #expect(throws: ConfigError.self) { try acl("src", "not-an-ip") }
        #expect(throws: ConfigError.self) { try acl("src_port", "gt", "x") }
        #expect(throws: ConfigError.self) { try acl("src", "-f", "/acl/missing.lst") }
        #expect(throws: ConfigError.self) { try acl("src", "-f", "/acl/broken.lst") }
        #expect(throws: ConfigError.self) { try acl("path,map(/maps/missing.map)", "x") }
        #expect(throws: ConfigError.self) { try acl("path", "-q", "x") }
        #expect(throws: ConfigError.self) { try acl("payload_lv(0,1)", "x") }
        #expect(throws: ConfigError.self) { try acl("path,field(0,/)", "x") }
        #expect(throws: ConfigError.self) { try acl("var(nope)", "x") }
    }

    @Test func missingDataNeverMatches() throws {
        let s = SampleContext()
        #expect(try !acl("path", "/").matches(s))
        #expect(try !acl("hdr(host)", "-m", "found").matches(s))
        #expect(try !acl("src", "0.0.0.0/0").matches(s))
        #expect(try !acl("status", "200").matches(s))
        #expect(try !acl("res.hdr(x)", "-m", "found").matches(s))
        s.status = 200
        #expect(try acl("status", "200:299").matches(s))
    }

    @Test func ruleSetsNameTheLineAtFault() throws {
        var proxy = ProxyConfig(kind: .frontend, name: "fe", location: SourceLocation(file: "h.cfg", line: 1))
        proxy.acls = [ACLConfig(name: "bad", criterion: "path_reg", arguments: ["("], location: SourceLocation(file: "h.cfg", line: 7))]
        #expect {
            _ = try ProxyRuleSet(proxy, files: files)
        } throws: { error in
            (error as? ProxyRuleSet.Failure)?.location.line == 7
        }
        proxy.acls = []
        proxy.useBackendRules = [UseBackendRule(backend: "b", condition: RuleCondition(negated: false, terms: ["ghost"]), location: SourceLocation(file: "h.cfg", line: 9))]
        #expect {
            _ = try ProxyRuleSet(proxy, files: files)
        } throws: { error in
            (error as? ProxyRuleSet.Failure)?.location.line == 9
        }
    }
}

@Suite struct TLSClientHelloTests {
    /// A minimal ClientHello naming `host`.
    static func hello(_ host: String) -> [UInt8] {
        let name = Array(host.utf8)
        let sni: [UInt8] = [0, 0] + be16(name.count + 5) + be16(name.count + 3) + [0] + be16(name.count) + name
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [0] + [0, 2, 0x13, 0x01] + [1, 0]
        body += be16(sni.count) + sni
        let handshake: [UInt8] = [1, 0] + be16(body.count) + body
        return [22, 3, 1] + be16(handshake.count) + handshake
    }

    static func be16(_ n: Int) -> [UInt8] { [UInt8(n >> 8), UInt8(n & 0xFF)] }

    @Test func serverNameTypeAndVersion() {
        let h = Self.hello("api.example.com")
        #expect(TLSClientHello.serverName(h) == Array("api.example.com".utf8))
        #expect(TLSClientHello.handshakeType(h) == 1)
        #expect(TLSClientHello.helloVersion(h) == 3 << 16 | 3, "the hello's version (not the record's 3.1), major × 65536 + minor, as HAProxy's req.ssl_ver")
        #expect(TLSClientHello.helloVersion(Array(h.dropLast())) == nil, "waited for until the record is whole")
        // An SSLv2 client hello: 3 cipher specs, no session id, a 16-byte challenge.
        let v2: [UInt8] = [0x80, 9 + 9 + 16, 1, 3, 1, 0, 9, 0, 0, 0, 16] + [UInt8](repeating: 0, count: 9 + 16)
        #expect(TLSClientHello.helloVersion(v2) == 3 << 16 | 1)
        #expect(TLSClientHello.helloVersion(Array(v2.dropLast())) == nil)
        #expect(TLSClientHello.handshakeType(Array(h.dropLast())) == nil, "a hello cut short is waited for")
        #expect(TLSClientHello.serverName(Array("GET / HTTP/1.1\r\n\r\n".utf8)) == nil)
    }

    /// `req.ssl_ver` patterns are MAJOR.MINOR versions, in ranges and after operators
    /// too; `-m int` takes the integer form; `req.payload_lv` reads a length-prefixed block.
    @Test func versionPatternsAndLengthPrefixedBlocks() throws {
        let files = PatternFiles(readFile: { _ in nil })
        let s = SampleContext()
        s.payload = Self.hello("api.example.com")
        for (words, expected) in [(["3.3"], true), (["3.1"], false), (["3.2:3.4"], true), (["ge", "3.4"], false), (["gt", "3.2"], true), (["-m", "int", "196611"], true)] {
            #expect(try ACL(criterion: "req.ssl_ver", arguments: words, files: files).matches(s) == expected, "\(words)")
        }
        #expect(throws: ConfigError.self) { try ACL(criterion: "req.ssl_ver", arguments: ["3.x"], files: files) }
        s.payload = [9, 0, 3] + Array("abcdef".utf8)
        func block(_ expression: String) throws -> String? {
            try SampleExpression(parsing: expression, files: files).value(in: s).map { String(decoding: $0.bytes, as: UTF8.self) }
        }
        #expect(try block("req.payload_lv(1,2)") == "abc")
        #expect(try block("req.payload_lv(1,2,+1)") == "bcd")
        #expect(try block("req.payload_lv(1,2,-1)") == "\u{3}ab")
        #expect(try block("req.payload_lv(1,2,10)") == "cde", "an unsigned offset2 is halved, as HAProxy 2.6 reads it")
        #expect(try block("req.payload_lv(0,1)") == nil, "9 bytes announced, 8 there: not yet")
        for bad in ["req.payload_lv(0,0)", "req.payload_lv(-1,1)", "req.payload_lv(0,1,-2)", "req.payload_lv(0,1,x)", "req.payload_lv(0)"] {
            #expect(throws: ConfigError.self, "\(bad)") { try SampleExpression(parsing: bad, files: files) }
        }
    }

    @Test func truncatedOrCorruptHellosNeverCrash() {
        let h = Self.hello("www.example.com")
        for n in 0..<h.count { #expect(TLSClientHello.serverName(Array(h.prefix(n))) == nil) }
        var corrupt = h
        for k in 5..<corrupt.count {
            corrupt[k] = 0xFF
            _ = TLSClientHello.serverName(corrupt)
        }
    }
}
