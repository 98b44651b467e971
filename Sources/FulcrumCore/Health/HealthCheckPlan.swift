/// How a backend's servers are checked, compiled once from the proxy's check options
/// and rules: which conversation each probe holds, on which port, and whether a
/// PROXY header opens it. What is not implemented yet is refused at start-up.
public struct HealthCheckPlan: Sendable {
    public enum Kind: Sendable {
        case connect
        case http(HTTPCheckConversation)
        case tcp(TCPCheckConversation)
    }

    public var kind: Kind
    /// `tcp-check connect port N` / `http-check connect port N`: overrides the port.
    public var port: Int?
    /// `tcp-check connect send-proxy`: a PROXY v1 line opens the check connection.
    public var sendProxy = false

    public init(kind: Kind, port: Int? = nil, sendProxy: Bool = false) {
        self.kind = kind
        self.port = port
        self.sendProxy = sendProxy
    }

    /// A fresh conversation for one check.
    public func conversation() -> any CheckConversation {
        switch kind {
        case .connect: return ConnectCheckConversation()
        case .http(let c): return c
        case .tcp(let c): return c
        }
    }

    public struct Unsupported: Error, CustomStringConvertible, Sendable {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public static func make(for proxy: ProxyConfig) throws(Unsupported) -> HealthCheckPlan {
        let chosen = proxy.pending["health-check"]?.first
        let args = { (name: String) in proxy.pending["option \(name)"] ?? [] }
        switch chosen {
        case nil:
            return HealthCheckPlan(kind: .connect)
        case "httpchk":
            return try http(proxy)
        case "tcp-check":
            return try tcp(proxy.tcpCheckRules)
        case "redis-check":
            return HealthCheckPlan(kind: .tcp(TCPCheckConversation(steps: [
                .send(Array("*1\r\n$4\r\nPING\r\n".utf8)), .expect(.string("+PONG"), negated: false, comment: nil),
            ])))
        case "smtpchk":
            let a = args("smtpchk")
            let hello = a.count >= 2 && ["HELO", "EHLO"].contains(a[0].uppercased()) ? "\(a[0].uppercased()) \(a[1])" : "HELO localhost"
            let reply = try! CheckPattern("^2[0-9][0-9][- \r]")
            return HealthCheckPlan(kind: .tcp(TCPCheckConversation(steps: [
                .expect(.stringPattern(reply), negated: false, comment: "SMTP banner"),
                .send(Array("\(hello)\r\n".utf8)),
                .expect(.stringPattern(reply), negated: false, comment: "SMTP \(hello.prefix(4)) reply"),
                .send(Array("QUIT\r\n".utf8)),
            ])))
        case "pgsql-check":
            let a = args("pgsql-check")
            guard a.count >= 2, a[0] == "user" else { throw Unsupported("'option pgsql-check' needs 'user <name>'") }
            return HealthCheckPlan(kind: .tcp(TCPCheckConversation(steps: [
                .send(ProtocolProbes.postgresStartup(user: a[1])),
                // 'R': the server asks to authenticate (or says it is done): it is alive.
                .expect(.binaryPattern(try! CheckPattern("^52")), negated: false, comment: "PostgreSQL authentication request"),
            ])))
        case "mysql-check":
            let a = args("mysql-check")
            let greeting = TCPCheckConversation.Step.expect(.binaryPattern(try! CheckPattern("^[0-9A-F]{6}000A")), negated: false, comment: "MySQL greeting")
            guard a.count >= 2, a[0] == "user" else {
                return HealthCheckPlan(kind: .tcp(TCPCheckConversation(steps: [greeting])))
            }
            let post41 = a.count >= 3 && a[2] == "post-41"
            return HealthCheckPlan(kind: .tcp(TCPCheckConversation(steps: [
                greeting,
                .send(ProtocolProbes.mysqlLogin(user: a[1], post41: post41)),
                // An OK packet (0x00) to the login: the server accepts it.
                .expect(.binaryPattern(try! CheckPattern("^[0-9A-F]{6}0[0-9A-F]00")), negated: false, comment: "MySQL login"),
                .send(ProtocolProbes.mysqlQuit),
            ])))
        case "ssl-hello-chk":
            return HealthCheckPlan(kind: .tcp(TCPCheckConversation(steps: [
                .send(ProtocolProbes.tlsClientHello),
                // A handshake record (0x16) or an alert (0x15): a TLS stack answered.
                .expect(.binaryPattern(try! CheckPattern("^1[56]")), negated: false, comment: "TLS server hello"),
            ])))
        case let other?:
            throw Unsupported("'option \(other)' is not implemented yet (connect, httpchk, tcp-check, ssl-hello-chk, smtpchk, mysql-check, pgsql-check and redis-check are)")
        }
    }

    static func http(_ proxy: ProxyConfig) throws(Unsupported) -> HealthCheckPlan {
        let option = proxy.options.httpCheck ?? HTTPCheckOption()
        var method = option.method, uri = option.uri, version = option.version
        var headers: [(String, String)] = []
        var body: String? = nil
        var expectations: [HTTPCheckConversation.Expectation] = []
        var port: Int? = nil
        var sends = 0
        for rule in proxy.httpCheckRules {
            let a = rule.arguments
            switch rule.action {
            case "send":
                sends += 1
                guard sends == 1 else { throw Unsupported("\(rule.location): several 'http-check send' (multi-step checks) are not implemented yet") }
                var i = 0
                while i < a.count {
                    switch a[i] {
                    case "meth": method = value(a, i); i += 2
                    case "uri": uri = value(a, i); i += 2
                    case "ver": version = value(a, i); i += 2
                    case "hdr": headers.append((value(a, i), value(a, i + 1))); i += 3
                    case "body": body = value(a, i); i += 2
                    default: throw Unsupported("\(rule.location): 'http-check send \(a[i])' is not implemented yet")
                    }
                }
            case "expect":
                let (match, pattern, negated) = try expectation(a, rule)
                switch match {
                case "status":
                    var ranges: [ClosedRange<Int>] = []
                    for part in pattern.split(separator: ",") {
                        let bounds = part.split(separator: "-").compactMap { Int($0) }
                        guard bounds.count == 1 || bounds.count == 2 else { throw Unsupported("\(rule.location): bad status '\(pattern)'") }
                        ranges.append(bounds[0]...(bounds.count == 2 ? bounds[1] : bounds[0]))
                    }
                    expectations.append(.init(.status(ranges), negated: negated))
                case "rstatus": expectations.append(.init(.statusPattern(try compile(pattern, rule)), negated: negated))
                case "string": expectations.append(.init(.string(pattern), negated: negated))
                case "rstring": expectations.append(.init(.stringPattern(try compile(pattern, rule)), negated: negated))
                default: throw Unsupported("\(rule.location): 'http-check expect \(match)' is not implemented yet (status, rstatus, string, rstring are)")
                }
            case "connect":
                port = try connectPort(a, rule)
            case "comment":
                break
            default:
                throw Unsupported("\(rule.location): 'http-check \(rule.action)' is not implemented yet")
            }
        }
        let request = HTTPCheckConversation.request(method: method, uri: uri, version: version, headers: headers, body: body)
        return HealthCheckPlan(kind: .http(HTTPCheckConversation(request: request, expectations: expectations)), port: port)
    }

    static func tcp(_ rules: [CheckRuleConfig]) throws(Unsupported) -> HealthCheckPlan {
        var steps: [TCPCheckConversation.Step] = []
        var port: Int? = nil
        var sendProxy = false
        var comment: String? = nil
        for (k, rule) in rules.enumerated() {
            let a = rule.arguments
            switch rule.action {
            case "connect":
                guard k == 0 else { throw Unsupported("\(rule.location): a 'tcp-check connect' after the first rule (multi-step checks) is not implemented yet") }
                port = try connectPort(a, rule)
                sendProxy = a.contains("send-proxy")
            case "send":
                guard let data = a.first else { throw Unsupported("\(rule.location): 'tcp-check send' needs data") }
                steps.append(.send(Array(data.utf8)))
            case "send-binary":
                guard let hex = a.first, let data = TCPCheckConversation.bytes(fromHex: hex) else {
                    throw Unsupported("\(rule.location): 'tcp-check send-binary' needs hexadecimal data")
                }
                steps.append(.send(data))
            case "expect":
                let (match, pattern, negated) = try expectation(a, rule)
                let note = commentOption(a) ?? comment
                comment = nil
                switch match {
                case "string": steps.append(.expect(.string(pattern), negated: negated, comment: note))
                case "rstring": steps.append(.expect(.stringPattern(try compile(pattern, rule)), negated: negated, comment: note))
                case "binary":
                    guard let data = TCPCheckConversation.bytes(fromHex: pattern) else { throw Unsupported("\(rule.location): 'expect binary' needs hexadecimal data") }
                    steps.append(.expect(.binary(data), negated: negated, comment: note))
                case "rbinary": steps.append(.expect(.binaryPattern(try compile(pattern, rule)), negated: negated, comment: note))
                default: throw Unsupported("\(rule.location): 'tcp-check expect \(match)' is not implemented yet (string, rstring, binary, rbinary are)")
                }
            case "comment":
                comment = a.joined(separator: " ")
            default:
                throw Unsupported("\(rule.location): 'tcp-check \(rule.action)' is not implemented yet")
            }
        }
        return HealthCheckPlan(kind: steps.isEmpty ? .connect : .tcp(TCPCheckConversation(steps: steps)), port: port, sendProxy: sendProxy)
    }

    static func value(_ a: [String], _ i: Int) -> String { i + 1 < a.count ? a[i + 1] : "" }

    static func connectPort(_ a: [String], _ rule: CheckRuleConfig) throws(Unsupported) -> Int? {
        var i = 0
        var port: Int? = nil
        while i < a.count {
            switch a[i] {
            case "port":
                guard let p = Int(value(a, i)), (1...65535).contains(p) else { throw Unsupported("\(rule.location): bad port '\(value(a, i))'") }
                port = p
                i += 2
            case "send-proxy", "linger", "default":
                i += 1
            case "comment":
                i += 2
            default:
                throw Unsupported("\(rule.location): '\(rule.action) connect \(a[i])' is not implemented yet")
            }
        }
        return port
    }

    static func commentOption(_ a: [String]) -> String? {
        guard let k = a.firstIndex(of: "comment"), k + 1 < a.count else { return nil }
        return a[k + 1]
    }

    /// `expect [options...] [!] <match> <pattern>`: the options are skipped, as their
    /// only effect here would be on messages and statuses.
    static func expectation(_ a: [String], _ rule: CheckRuleConfig) throws(Unsupported) -> (String, String, Bool) {
        let withValue: Set<String> = ["min-recv", "comment", "ok-status", "error-status", "tout-status", "on-success", "on-error", "status-code"]
        var i = 0
        while i < a.count, withValue.contains(a[i]) { i += 2 }
        var negated = false
        if i < a.count, a[i] == "!" { negated = true; i += 1 }
        guard i + 1 < a.count else { throw Unsupported("\(rule.location): '\(rule.action)' expects a match and a pattern") }
        return (a[i], a[(i + 1)...].joined(separator: " "), negated)
    }

    static func compile(_ pattern: String, _ rule: CheckRuleConfig) throws(Unsupported) -> CheckPattern {
        do { return try CheckPattern(pattern) } catch { throw Unsupported("\(rule.location): bad regular expression '\(pattern)'") }
    }
}
