import Testing
import HAProxyConfig
@testable import FulcrumCore

@Suite struct CompilerTests {
    @Test func defaultsAreInheritedAndOverridden() throws {
        let (config, diags, _) = compile("""
        defaults
            mode http
        \(timeouts)    retries 5
            option forwardfor except 127.0.0.0/8 header X-Real-IP
        frontend fe
            bind :8080
            default_backend be
        backend be
            retries 2
            balance static-rr
            server s1 127.0.0.1:80 check inter 5s weight 10
        """)
        #expect(!diags.hasAlerts, "\(diags.items)")
        let fe = try #require(config.proxies.first { $0.name == "fe" })
        let be = try #require(config.backend(named: "be"))
        #expect(fe.mode == .http && be.mode == .http)
        #expect(fe.options.forwardFor?.header == "X-Real-IP" && fe.options.forwardFor?.except == "127.0.0.0/8")
        #expect(be.retries == 2 && be.balance == .staticRoundRobin)
        #expect(be.timeouts.connect == DurationValue(milliseconds: 5000))
        let s1 = be.servers[0]
        #expect(s1.options.check && s1.options.inter.milliseconds == 5000 && s1.options.weight == 10)
    }

    @Test func namedDefaultsAndFrom() throws {
        let (config, diags, _) = compile("""
        defaults tcpdefs
            mode tcp
        \(timeouts)defaults httpdefs
            mode http
        \(timeouts)frontend a from tcpdefs
            bind :1
            default_backend b
        backend b from tcpdefs
            server s 127.0.0.1:2
        frontend c
            bind :3
        """)
        #expect(!diags.hasAlerts, "\(diags.items)")
        #expect(config.proxies.first { $0.name == "a" }?.mode == .tcp)
        #expect(config.proxies.first { $0.name == "c" }?.mode == .http, "the last defaults section applies")
        let (_, bad, _) = compile("frontend x from nowhere\n  bind :1\n")
        #expect(bad.alerts.first?.location?.line == 1)
        #expect(bad.alerts.first?.message.contains("unable to find defaults section 'nowhere'") == true)
    }

    @Test func defaultServerAppliesToLaterServers() throws {
        let (config, diags, _) = compile("backend b\n\(timeouts)  default-server inter 3s fall 5\n  server s1 127.0.0.1:1\n  server s2 127.0.0.1:2 fall 2\n")
        #expect(!diags.hasAlerts)
        let b = try #require(config.backend(named: "b"))
        #expect(b.servers[0].options.fall == 5 && b.servers[0].options.inter.milliseconds == 3000)
        #expect(b.servers[1].options.fall == 2)
    }

    @Test func legacyKeywordsWarnAndRunTheirModernEquivalent() throws {
        let (config, diags, rewrites) = compile("""
        global
            nbproc 4
        defaults
            mode http
        \(timeouts)frontend fe
            bind :8080
            reqadd X-Forwarded-Proto:\\ http
            rspadd X-Frame-Options:\\ DENY if { path_beg /a }
            reqdel ^X-Debug:.*
            reqirep ^Host:\\ (.*) Host:\\ www.\\1
            block if { src 10.0.0.0/8 }
            default_backend be
        backend be
            redispatch
            server s 127.0.0.1:80
        """)
        #expect(!diags.hasAlerts, "\(diags.alerts)")
        #expect(config.global.threadCount(cores: 2) == 4)
        let fe = try #require(config.proxies.first { $0.name == "fe" })
        #expect(fe.httpRequestRules.map(\.action) == ["add-header", "del-header", "replace-header", "deny"])
        #expect(fe.httpRequestRules[0].arguments == ["X-Forwarded-Proto", "http"])
        #expect(fe.httpRequestRules[2].arguments == ["Host", "(?i)^(.*)", "www.\\1"])
        #expect(fe.httpResponseRules.first?.condition?.terms == ["{", "path_beg", "/a", "}"])
        #expect(config.backend(named: "be")?.options.redispatch == true)
        let warnings = diags.warnings.map(\.message)
        #expect(warnings.contains { $0.contains("'nbproc'") && $0.contains("nbthread 4") })
        #expect(warnings.contains { $0.contains("'reqadd'") && $0.contains("http-request add-header X-Forwarded-Proto http") })
        #expect(rewrites[SourceLocation(file: "test.cfg", line: 10)] == [["http-request", "add-header", "X-Forwarded-Proto", "http"]])
    }

    @Test func untranslatableLegacyIsRefusedWithTheModernForm() {
        let (_, diags, _) = compile("frontend fe\n  bind :1\n  reqrep ^GET\\ /old(.*) GET\\ /new\\1\n  reqdeny ^User-Agent:.*evil\n")
        #expect(diags.alerts.map { $0.location?.line } == [3, 4])
        #expect(diags.alerts[0].hint?.contains("replace-path") == true)
        #expect(diags.alerts[1].hint?.contains("http-request deny") == true)
    }

    @Test func tuneMaxacceptTakesACountOrMinusOne() {
        #expect(compile("global\n  tune.maxaccept 16\n").0.global.tuneMaxaccept == 16)
        #expect(compile("global\n  tune.maxaccept -1\n").0.global.tuneMaxaccept == -1)
        #expect(compile("global\n").0.global.tuneMaxaccept == nil)
        #expect(compile("global\n  tune.maxaccept 0\n").0.global.tuneMaxaccept == nil, "0: the default, as HAProxy")
        #expect(compile("global\n  tune.maxaccept 2147483647\n").0.global.tuneMaxaccept == 2147483647)
        for bad in ["-2", "2147483648", "many"] {
            let (_, diags, _) = compile("global\n  tune.maxaccept \(bad)\n")
            #expect(diags.alerts.map { $0.location?.line } == [2], "tune.maxaccept \(bad)")
        }
    }

    /// `default option tcp-smart-accept` goes back to automatic (on in HTTP mode), where
    /// `no option` turns it off.
    @Test func defaultOptionTcpSmartAcceptIsAutomatic() {
        let text = "defaults\n  mode http\n  no option tcp-smart-accept\nfrontend a\n  bind :1\n  default option tcp-smart-accept\nfrontend b\n  bind :2\n"
        let proxies = compile(text).0.proxies
        #expect(proxies.first { $0.name == "a" }?.options.others["tcp-smart-accept"] == nil)
        #expect(proxies.first { $0.name == "b" }?.options.others["tcp-smart-accept"] == false)
    }

    @Test func unknownKeywordsSuggestTheClosest() {
        let (_, diags, _) = compile("defaults\n  timout client 5s\n  optoin httplog\nfrontend f\n  bind :1\n  defualt_backend b\n  option htplog\n  timeout clinet 5s\n")
        let messages = diags.alerts.map(\.message)
        #expect(messages.contains("unknown keyword 'timout' in 'defaults' section; did you mean 'timeout' maybe ?"))
        #expect(messages.contains("unknown keyword 'optoin' in 'defaults' section; did you mean 'option' maybe ?"))
        #expect(messages.contains("unknown keyword 'defualt_backend' in 'frontend' section; did you mean 'default_backend' maybe ?"))
        #expect(messages.contains("unknown option 'htplog'; did you mean 'httplog' maybe ?"))
        #expect(messages.contains { $0.contains("(got 'clinet'); did you mean 'client' maybe ?") })
    }

    @Test func keywordsInTheWrongSection() {
        let (_, diags, _) = compile("global\n  mode http\ndefaults\n  server s 1.2.3.4:80\n  nbthread 2\nfrontend f\n  bind :1\n  server s 127.0.0.1:80\n  balance roundrobin\nbackend b\n  bind :2\n")
        let byLine = Dictionary(grouping: diags.items, by: { $0.location?.line ?? 0 })
        #expect(byLine[2]?.first?.hint?.contains("belongs in a defaults, frontend, backend or listen") == true)
        #expect(byLine[4]?.first?.message == "'server' not allowed in 'defaults' section.")
        #expect(byLine[5]?.first?.hint?.contains("global section") == true)
        #expect(byLine[8]?.first?.severity == .alert)
        #expect(byLine[9]?.first?.severity == .warning, "HAProxy only ignores 'balance' in a frontend")
        #expect(byLine[11]?.first?.message.contains("has no frontend capability") == true)
    }

    @Test func crossReferencesNameTheReferringLine() {
        let (_, diags, _) = compile("""
        defaults
        \(timeouts)frontend f
            mode http
            bind :1
            default_backend missing
            use_backend tcpb if { path_beg /x }
            use_backend %[req.hdr(host),lower]
        backend tcpb
            mode tcp
        """)
        let alerts = diags.alerts
        #expect(alerts.count == 2, "\(alerts)")
        #expect(alerts[0].location?.line == 8 && alerts[0].message.contains("unable to find required default_backend: 'missing'"))
        #expect(alerts[1].location?.line == 9 && alerts[1].message.contains("incompatible tcp backend 'tcpb'"))
    }

    @Test func duplicateNames() {
        let (_, diags, _) = compile("""
        defaults
        \(timeouts)frontend x
            bind :1
        backend x
            server a 127.0.0.1:1
            server a 127.0.0.1:2
        backend x
        listen y
            bind :2
        frontend y
            bind :3
        """)
        #expect(diags.alerts.compactMap { $0.location?.line }.sorted() == [9, 10, 13], "\(diags.alerts)")
        let (_, listenBackend, _) = compile("defaults\n\(timeouts)backend x\nlisten x\n  bind :1\n")
        #expect(!listenBackend.hasAlerts && listenBackend.warnings.contains { $0.message.contains("ambiguous") },
                "HAProxy 2.6 accepts a listen sharing a backend's name")
    }

    @Test func valueValidation() {
        let (_, diags, _) = compile("""
        global
            nbthread 0
            maxconn abc
            user nosuchuser
            stats socket /run/x.sock level root
            log 127.0.0.1 local9
        backend b
            server s1 127.0.0.1:80 weight 300
            server s2 127.0.0.1:80 rise 0
            server s3 nosuchhost.example:80
            errorfile 503 /missing.http
            errorfile 418 /ok.http
            balance roundrobbin
            hash-type bogus
            capture request header Host
        """, files: ["/ok.http": "HTTP/1.0 418 x\\r\\n\\r\\n"])
        let lines = Set(diags.alerts.compactMap { $0.location?.line })
        #expect(lines == Set([2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14]), "\(diags.alerts)")
        #expect(diags.warnings.contains { $0.location?.line == 15 }, "capture in a backend is ignored with a warning")
    }

    @Test func missingTimeoutsWarn() {
        let (_, diags, _) = compile("frontend f\n  bind :1\n  timeout client 1s\nbackend b\n  timeout connect 1s\n")
        #expect(!diags.hasAlerts)
        #expect(diags.warnings.map { $0.location?.line } == [4])
        #expect(diags.warnings[0].hint == "missing here: timeout server")
    }

    @Test func errorfileBytesAreKeptVerbatim() throws {
        let body = "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<h1>down</h1>\n"
        let (config, diags, _) = compile("defaults\n  errorfile 503 /e.http\n\(timeouts)backend b\n", files: ["/e.http": body])
        #expect(!diags.hasAlerts)
        #expect(config.backend(named: "b")?.errorFiles[503]?.contents == Array(body.utf8))
    }

    @Test func httpErrorLogFormatPagesAreCheckedAtLoad() throws {
        let (config, diags, _) = compile("""
        defaults
            mode http
        \(timeouts)frontend f
            bind :1
            http-error status 503 content-type text/plain lf-string "down %[path]" hdr X-P %[path]
            http-error status 403 content-type text/plain lf-string "static" hdr X-A b
            http-error status 404 lf-string "no type"
            http-error status 500 content-type text/plain lf-string "%[nosuchfetch]"
            http-error status 502 content-type text/plain lf-file /missing.lf
            http-error status 504 content-type text/plain lf-file /p.lf
        """, files: ["/p.lf": "late %[path]\n"])
        #expect(Set(diags.alerts.compactMap { $0.location?.line }) == [10, 11, 12], "\(diags.alerts)")
        let f = try #require(config.proxies.first { $0.name == "f" })
        // Rendered per request: kept as a reply.
        #expect(f.errorFiles[503]?.reply?.bodyFormat?.nodes == [.literal(Array("down ".utf8)), .sample("path", [])])
        #expect(f.errorFiles[503]?.reply?.headers.map(\.name) == ["X-P"])
        #expect(f.errorFiles[504]?.reply?.bodyFormat?.source == "late %[path]\n")
        // Nothing depends on the request: built once, headers first as HAProxy writes them.
        #expect(f.errorFiles[403]?.reply == nil)
        #expect(f.errorFiles[403]?.contents == Array("HTTP/1.1 403 Forbidden\r\nX-A: b\r\ncontent-length: 6\r\ncontent-type: text/plain\r\n\r\nstatic".utf8))
    }

    @Test func rulesAndChecksAreValidated() throws {
        let (config, diags, _) = compile("""
        defaults
            mode http
        \(timeouts)frontend f
            bind :1
            acl is_api path_beg /api
            http-request set-header X-Api 1 if is_api
            http-request set-var(txn.x) str(a)
            http-request frobnicate
            http-response set-status 200
            tcp-request connection reject if { src 10.0.0.0/8 }
            tcp-request content bogus
            default_backend b
        backend b
            option httpchk GET /health HTTP/1.1
            http-check expect status 200
            http-check bogus
            tcp-check connect port 80
            server s 127.0.0.1:80 check
        """)
        #expect(diags.alerts.map { $0.location?.line } == [11, 14, 19], "\(diags.alerts)")
        let f = try #require(config.proxies.first { $0.name == "f" })
        #expect(f.acls.first?.name == "is_api")
        #expect(f.httpRequestRules.first?.condition == RuleCondition(negated: false, terms: ["is_api"]))
        #expect(config.backend(named: "b")?.options.httpCheck == { var c = HTTPCheckOption(); c.method = "GET"; c.uri = "/health"; c.version = "HTTP/1.1"; return c }())
    }

    @Test func noOptionClearsAnInheritedOption() {
        let (config, _, _) = compile("defaults\n  option redispatch\n  option httpclose\n\(timeouts)backend b\n  no option redispatch\n  no option httpclose\n")
        #expect(config.backend(named: "b")?.options.redispatch == false)
        #expect(config.backend(named: "b")?.options.httpConnectionMode == .keepAlive)
    }

    @Test func modernPrinterReplacesOnlyLegacyLines() {
        let text = "global\n    nbproc 2 # old\n    daemon\nfrontend f\n\tbind :80\n\treqadd X-A:\\ 1\n"
        var reader = ConfigReader(context: FulcrumVersion.conditionContext(environment: { _ in nil }))
        reader.read(file: "m.cfg", contents: Array(text.utf8))
        let (_, _, rewrites) = ConfigCompiler.compile(reader.document, environment: .system)
        let printed = ModernConfigPrinter.print(reader.document, rewrites: rewrites)
        #expect(printed == "global\n    # legacy: nbproc 2 # old\n    nbthread 2\n    daemon\nfrontend f\n\tbind :80\n\t# legacy: reqadd X-A:\\ 1\n\thttp-request add-header X-A 1\n")
    }

    @Test func reviewRegressions() throws {
        // Values that used to trap.
        let (_, overflow, _) = compile("defaults\n  timeout server 300000000000d\nbackend b\n  server s 127.0.0.1:80 inter 99999999999999h\n  server t 127.0.0.1:-9223372036854775808\n")
        #expect(overflow.alerts.map { $0.location?.line } == [2, 4, 5])
        // Accepted by HAProxy 2.6, so accepted here.
        let (config, ok, _) = compile("""
        global
            master-worker no-exit-on-failure
            tune.http.logurilen 2048
        defaults web
            mode http
        \(timeouts)    acl is_admin path_beg /admin
            http-request deny if is_admin
            option redispatch 2
            option httpslog
        frontend f from web
            bind :8080 accept-netscaler-cip 1234 crt-ignore-err all
            backlog 100
            default_backend b
        backend b from web
            default option redispatch
            server s 127.0.0.1:80 send-proxy-v2 proxy-v2-options ssl,unique-id
            server n nonexistent.invalid:80 init-addr none
        """)
        #expect(!ok.hasAlerts, "\(ok.alerts)")
        #expect(config.proxies.first { $0.name == "f" }?.httpRequestRules.count == 1, "rules of a named defaults are inherited")
        #expect(config.backend(named: "b")?.options.redispatch == false)
        let (_, anonymous, _) = compile("defaults\n  http-request deny\n")
        #expect(anonymous.alerts.first?.message == "'http-request' not allowed in anonymous 'defaults' section.")
    }

    @Test func legacyRewritesKeepTheirMeaning() throws {
        let (config, diags, _) = compile("""
        defaults
            mode http
        \(timeouts)frontend f
            bind :1
            reqadd X-Discount:\\ 50%
            rsprep ^Location:\\s+http://(.*) Location:\\ https://\\1
            reqidel ^X-Foo|^X-Bar:
        """)
        let f = try #require(config.proxies.first)
        #expect(f.httpRequestRules.first?.arguments == ["X-Discount", "50%%"])
        #expect(f.httpResponseRules.first?.arguments == ["Location", "^http://(.*)", "https://\\1"])
        #expect(diags.alerts.map { $0.location?.line } == [10], "a regex alternation is not one header name")
    }
}
