import Testing
@testable import FulcrumCore

@Suite struct HealthCheckStateMachineTests {
    @Test func startsUpAndFallsAtTheFirstFailureAsHAProxy() {
        var m = HealthCheckStateMachine(rise: 2, fall: 3)
        #expect(m.isUp && m.pace == .transitional)
        let t = m.checkFailed()
        #expect(t == .wentDown, "HAProxy's default start: UP, DOWN at the first failed check")
    }

    @Test func fullyUpNeedsFallFailures() {
        var m = HealthCheckStateMachine(rise: 2, fall: 3, initial: .fullyUp)
        #expect(m.pace == .steadyUp)
        var transitions: [HealthCheckStateMachine.Transition?] = []
        for _ in 0..<3 { transitions.append(m.checkFailed()) }
        #expect(transitions == [nil, nil, .wentDown])
        #expect(m.pace == .steadyDown)
    }

    @Test func riseSuccessesBringItBackAndOneSuccessHealsAFlap() {
        var m = HealthCheckStateMachine(rise: 3, fall: 2, initial: .fullyDown)
        var transitions: [HealthCheckStateMachine.Transition?] = []
        for _ in 0..<3 { transitions.append(m.checkPassed()) }
        #expect(transitions == [nil, nil, .wentUp])
        #expect(m.health == 4 && m.pace == .steadyUp)
        #expect(m.checkFailed() == nil, "one failure of fall 2 keeps it UP")
        #expect(m.pace == .transitional)
        #expect(m.checkPassed() == nil)
        #expect(m.health == 4, "a passed check puts an UP server back at the top")
        #expect(m.checkFailed() == nil)
        #expect(m.checkFailed() == .wentDown)
    }

    @Test func suddenDeathLeavesOneFailureBeforeDown() {
        var m = HealthCheckStateMachine(rise: 2, fall: 3, initial: .fullyUp)
        m.suddenDeath()
        #expect(m.isUp, "still UP")
        #expect(m.checkFailed() == .wentDown, "one more failure takes it DOWN")
        var down = HealthCheckStateMachine(rise: 2, fall: 3, initial: .fullyDown)
        down.suddenDeath()
        #expect(down.health == 0, "nothing to do for a server already DOWN")
    }

    @Test func downAndFullyDownStarts() {
        var down = HealthCheckStateMachine(rise: 2, fall: 3, initial: .down)
        #expect(!down.isUp)
        #expect(down.checkPassed() == .wentUp, "`down`: UP at the first passed check")
        var fullyDown = HealthCheckStateMachine(rise: 2, fall: 3, initial: .fullyDown)
        #expect(fullyDown.checkPassed() == nil)
        #expect(fullyDown.checkPassed() == .wentUp)
        #expect(fullyDown.markDown() == .wentDown)
        #expect(fullyDown.markUp() == .wentUp)
    }
}

@Suite struct HealthCheckConversationTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func httpCheckRequestAndDefaultVerdicts() {
        let request = HTTPCheckConversation.request(method: "GET", uri: "/health", version: "HTTP/1.1\r\nHost: www", headers: [("X-A", "1")], body: nil)
        #expect(String(decoding: request, as: UTF8.self) == "GET /health HTTP/1.1\r\nHost: www\r\nX-A: 1\r\nConnection: close\r\n\r\n")
        var c = HTTPCheckConversation(request: request, expectations: [])
        #expect(c.start() == .send(request))
        #expect(c.received(bytes("HTTP/1.1 20")) == .wait)
        #expect(c.received(bytes("HTTP/1.1 204 No Content\r\n\r\n")) == .finished(CheckResult(.l7ok, code: 204)))
        #expect(c.received(bytes("HTTP/1.0 503 Busy\r\n\r\n")) == .finished(CheckResult(.l7wrongStatus, code: 503, info: "Busy")))
        #expect(c.received(bytes("SSH-2.0-OpenSSH\r\n")) == .finished(CheckResult(.l7invalidResponse)))
        #expect(c.ended(timedOut: true, received: []) == CheckResult(.l7timeout))
        #expect(c.ended(timedOut: false, received: bytes("garbage")) == CheckResult(.l7invalidResponse))
    }

    @Test func httpExpectations() throws {
        let ok = bytes("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy")
        var status = HTTPCheckConversation(request: [], expectations: [.init(.status([200...200, 301...302]))])
        #expect(status.received(ok) == .finished(CheckResult(.l7ok, code: 200)))
        var negated = HTTPCheckConversation(request: [], expectations: [.init(.statusPattern(try CheckPattern("^2")), negated: true)])
        #expect(negated.received(ok) == .finished(CheckResult(.l7wrongStatus, code: 200, info: "OK")))
        var body = HTTPCheckConversation(request: [], expectations: [.init(.string("healthy"))])
        #expect(body.received(bytes("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nheal")) == .wait, "the body is awaited")
        #expect(body.received(ok) == .finished(CheckResult(.l7ok, code: 200)))
        var mismatch = HTTPCheckConversation(request: [], expectations: [.init(.stringPattern(try CheckPattern("^sick")))])
        #expect(mismatch.received(ok) == .finished(CheckResult(.l7invalidResponse, info: "HTTP content check did not match")))
        // Without a length, the body ends with the connection.
        let open = HTTPCheckConversation(request: [], expectations: [.init(.string("up"))])
        #expect(open.ended(timedOut: false, received: bytes("HTTP/1.0 200 OK\r\n\r\nall up")) == CheckResult(.l7ok, code: 200))
    }

    @Test func tcpCheckScripts() throws {
        var redis = TCPCheckConversation(steps: [.send(bytes("PING\r\n")), .expect(.string("+PONG"), negated: false, comment: nil), .send(bytes("QUIT\r\n"))])
        #expect(redis.start() == .send(bytes("PING\r\n")))
        #expect(redis.received(bytes("+PO")) == .wait)
        #expect(redis.received(bytes("+PONG\r\n")) == .finishedAfterSending(bytes("QUIT\r\n"), CheckResult(.l7ok, info: "(tcp-check)")))

        var wrong = TCPCheckConversation(steps: [.expect(.string("+PONG"), negated: false, comment: nil)])
        #expect(wrong.start() == .wait)
        #expect(wrong.received(bytes("-ERR")) == .wait, "the match may still come")
        #expect(wrong.ended(timedOut: false, received: bytes("-ERR")).status == .l7invalidResponse)
        #expect(wrong.ended(timedOut: true, received: bytes("-ERR")).status == .l7timeout)

        // Each expect looks at what came after the previous match.
        var smtp = TCPCheckConversation(steps: [
            .expect(.stringPattern(try CheckPattern("^220")), negated: false, comment: nil), .send(bytes("HELO x\r\n")),
            .expect(.stringPattern(try CheckPattern("^250")), negated: false, comment: "HELO reply"),
        ])
        #expect(smtp.received(bytes("220 mail\r\n")) == .send(bytes("HELO x\r\n")))
        #expect(smtp.received(bytes("220 mail\r\n550 no\r\n")) == .wait, "a later line could still match")
        #expect(smtp.ended(timedOut: false, received: bytes("220 mail\r\n550 no\r\n")) == CheckResult(.l7invalidResponse, info: "HELO reply"))
        var binary = TCPCheckConversation(steps: [.expect(.binaryPattern(try CheckPattern("^1[56]")), negated: false, comment: nil)])
        #expect(binary.received([0x16, 0x03, 0x03]) == .finished(CheckResult(.l7ok, info: "(tcp-check)")))
        var notError = TCPCheckConversation(steps: [.expect(.binary([0x45]), negated: true, comment: nil)])
        #expect(notError.received([0x45, 0x00]).isFailure)
        #expect(TCPCheckConversation.bytes(fromHex: "0a1B") == [0x0a, 0x1b])
        #expect(TCPCheckConversation.bytes(fromHex: "0g") == nil)
    }

    @Test func planFromConfiguration() throws {
        let (config, diagnostics, _) = compile("""
        defaults
            mode http
        \(timeouts)
        backend web
            option httpchk
            http-check send meth GET uri /health ver HTTP/1.1 hdr Host www.example
            http-check expect status 200-299
            server a 127.0.0.1:80 check
        backend cache
            option redis-check
            server r 127.0.0.1:6379 check
        backend scripted
            option tcp-check
            tcp-check connect port 2000
            tcp-check send-binary 50494e47
            tcp-check expect binary 504f4e47
            server s 127.0.0.1:1 check
        backend ldap
            option ldap-check
            server l 127.0.0.1:389 check
        """)
        #expect(!diagnostics.hasAlerts, "\(diagnostics)")
        let web = try HealthCheckPlan.make(for: try #require(config.backend(named: "web")))
        guard case .http(let http) = web.kind else { Issue.record("http plan expected"); return }
        #expect(String(decoding: http.request, as: UTF8.self) == "GET /health HTTP/1.1\r\nHost: www.example\r\nConnection: close\r\n\r\n")
        #expect(http.expectations == [.init(.status([200...299]))])
        let cache = try HealthCheckPlan.make(for: try #require(config.backend(named: "cache")))
        guard case .tcp = cache.kind else { Issue.record("redis-check is a tcp-check script"); return }
        let scripted = try HealthCheckPlan.make(for: try #require(config.backend(named: "scripted")))
        #expect(scripted.port == 2000)
        guard case .tcp(let script) = scripted.kind else { Issue.record("tcp plan expected"); return }
        #expect(script.steps == [.send([0x50, 0x49, 0x4e, 0x47]), .expect(.binary([0x50, 0x4f, 0x4e, 0x47]), negated: false, comment: nil)])
        #expect(throws: HealthCheckPlan.Unsupported.self) { try HealthCheckPlan.make(for: config.backend(named: "ldap")!) }
    }

    @Test func transitionMessagesInHAProxysWords() {
        let counts = HealthTransitionMessage.Counts(activeUsable: 0, backupUsable: 1, sessionsOnServer: 2, queued: 0)
        #expect(HealthTransitionMessage.down(proxy: "swift-backend", server: "swift-proxy2", backup: false,
                                             result: CheckResult(.l4connectionProblem, info: "Connection refused"), counts: counts)
                == "Server swift-backend/swift-proxy2 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 0 active and 1 backup servers left. Running on backup. 2 sessions active, 0 requeued, 0 remaining in queue.")
        #expect(HealthTransitionMessage.up(proxy: "l", server: "s", backup: true, result: CheckResult(.l7ok, code: 200, durationMilliseconds: 3),
                                           counts: .init(activeUsable: 1, backupUsable: 1, sessionsOnServer: 0, queued: 0))
                == "Backup Server l/s is UP, reason: Layer7 check passed, code: 200, check duration: 3ms. 1 active and 1 backup servers online. 0 sessions requeued, 0 total in queue.")
        #expect(HealthTransitionMessage.noServerAvailable(kind: "backend", proxy: "b") == "backend 'b' has no server available!")
    }
}

@Suite struct AgentReplyTests {
    @Test func wordsInAnyOrderAndOnlyWhatIsSaid() {
        #expect(AgentReply.parse(Array("75%\n".utf8)) == AgentReply(weightPercent: 75))
        #expect(AgentReply.parse(Array("up, ready\tmaxconn:30\r\n".utf8)) == AgentReply(maxconn: 30, administrative: .ready, operational: .up))
        #expect(AgentReply.parse(Array("drain".utf8)) == AgentReply(administrative: .drain))
        #expect(AgentReply.parse(Array("50% stopped#planned upgrade\n".utf8))
                == AgentReply(weightPercent: 50, operational: .down(word: "stopped", description: "planned upgrade")))
        #expect(AgentReply.parse(Array("fail\nup".utf8)) == AgentReply(operational: .down(word: "fail", description: nil)), "only the first line")
        #expect(AgentReply.parse(Array("bogus words".utf8)) == AgentReply())
        #expect(AgentReply.parse(Array("9999999%".utf8)).weightPercent == 25_600, "capped: weights never exceed 256")
    }
}

extension CheckStep {
    var isFailure: Bool {
        if case .finished(let r) = self { return !r.status.passed }
        return false
    }
}
