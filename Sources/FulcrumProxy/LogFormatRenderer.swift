#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore

/// Renders a compiled log-format for one request, value by value as HAProxy 2.6 prints
/// them (measured side by side): text values (names, addresses, the unique ID,
/// samples) take the `Q` quotes and `E` escapes, and when empty print `-` (`""` when
/// quoted); numbers ignore `Q`, and only addresses, ports, `%Ts`, `%ms`, `%pid`, `%rt`
/// and `%lc` turn hexadecimal with `X`; dates are never quoted.
enum LogFormatRenderer {
    /// Sample fetches `%[...]` accepts so far.
    static let supportedSamples: Set<String> = ["src", "src_port", "dst", "dst_port", "unique-id", "fe_name", "be_name", "srv_name", "pid"]

    /// The host name `%H` prints, read once.
    static let hostname: [UInt8] = {
        var name = [UInt8](repeating: 0, count: 256)
        _ = name.withUnsafeMutableBufferPointer { gethostname(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) }
        return Array(name.prefix { $0 != 0 })
    }()

    /// `samples` evaluates the `%[...]` expressions of rule formats against the
    /// transaction; without it only the connection-level fetches render.
    /// `missing`: what a fetch without a value prints: `-` in log lines, nothing in
    /// header values and other rule arguments (as HAProxy prints them).
    /// `mergeSpaces`: log lines and unique IDs, where HAProxy takes the spaces of the
    /// format as separators: leading ones dropped, runs printed as one, and none after a
    /// capture list that printed nothing.
    static func render(_ format: LogFormat, _ context: RequestLogContext, into out: inout [UInt8],
                       samples: (expressions: [String: SampleExpression], context: SampleContext)? = nil, missing: [UInt8] = [UInt8(ascii: "-")],
                       mergeSpaces: Bool = false) {
        var lastWasSpace = true
        for node in format.nodes {
            switch node {
            case .literal(let bytes):
                guard mergeSpaces else { out.append(contentsOf: bytes); continue }
                for b in bytes {
                    if b == UInt8(ascii: " ") || (b >= 9 && b <= 13) {
                        if !lastWasSpace { out.append(UInt8(ascii: " ")) }
                        lastWasSpace = true
                    } else {
                        out.append(b)
                        lastWasSpace = false
                    }
                }
            case .variable(let variable, let flags):
                let before = out.count
                renderVariable(variable, flags, context, missing: missing, into: &out)
                // Only a capture list can print nothing and leave the separator pending.
                switch variable {
                case .capturedRequestHeaders, .capturedResponseHeaders, .capturedRequestHeaderList, .capturedResponseHeaderList:
                    if out.count > before { lastWasSpace = false }
                default:
                    lastWasSpace = false
                }
            case .sample(let expression, let flags):
                lastWasSpace = false
                if let samples, let compiled = samples.expressions[expression] {
                    text(compiled.value(in: samples.context)?.bytes, flags, missing: missing, into: &out)
                } else {
                    var value: [UInt8] = []
                    renderSample(expression, context, into: &value)
                    text(value, flags, missing: missing, into: &out)
                }
            }
        }
    }

    static func render(_ format: LogFormat, _ context: RequestLogContext,
                       samples: (expressions: [String: SampleExpression], context: SampleContext)? = nil, missing: [UInt8] = [UInt8(ascii: "-")],
                       mergeSpaces: Bool = false) -> [UInt8] {
        if format.isConstant && !mergeSpaces { return format.constantBytes }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        render(format, context, into: &out, samples: samples, missing: missing, mergeSpaces: mergeSpaces)
        return out
    }

    /// Refuses a format whose `%[...]` fetches need a transaction where only the
    /// connection is known (access logs, unique IDs).
    static func checkConnectionSamples(_ format: LogFormat, _ proxy: ProxyConfig, _ what: String) throws {
        for case .sample(let expression, _) in format.nodes where !supportedSamples.contains(expression) {
            throw ProxyStartError("\(proxy.displayName): \(what): sample fetch '%[\(expression)]' is not implemented here yet (supported: \(supportedSamples.sorted().joined(separator: ", ")))")
        }
    }

    /// A text value: quoted with `Q`, escaped with `E`; empty or absent, `missing`
    /// (`-`) unquoted and nothing between the quotes.
    static func text(_ value: (some Collection<UInt8>)?, _ flags: LogFormatFlags, missing: [UInt8], into out: inout [UInt8]) {
        let quote = flags.contains(.quote)
        if quote { out.append(UInt8(ascii: "\"")) }
        if let value, !value.isEmpty {
            LogEscaping.text(value, escape: flags.contains(.escape), into: &out)
        } else if !quote {
            out.append(contentsOf: missing)
        }
        if quote { out.append(UInt8(ascii: "\"")) }
    }

    static func text(_ value: String, _ flags: LogFormatFlags, missing: [UInt8], into out: inout [UInt8]) {
        text(value.utf8, flags, missing: missing, into: &out)
    }

    /// A piece of the request line, `#XX`-encoded, in quotes with `Q`.
    static func encoded(_ value: some Collection<UInt8>, _ flags: LogFormatFlags, into out: inout [UInt8]) {
        if flags.contains(.quote) { out.append(UInt8(ascii: "\"")) }
        LogEscaping.encode(value, .url, escape: flags.contains(.escape), into: &out)
        if flags.contains(.quote) { out.append(UInt8(ascii: "\"")) }
    }

    static func renderVariable(_ variable: LogVariable, _ flags: LogFormatFlags, _ c: RequestLogContext, missing: [UInt8], into out: inout [UInt8]) {
        let hex = flags.contains(.hex)
        switch variable {
        case .clientIP: address(c.clientAddress, flags, missing: missing, into: &out)
        case .clientPort: port(c.clientAddress, flags, missing: missing, into: &out)
        case .frontendIP: address(c.frontendAddress, flags, missing: missing, into: &out)
        case .frontendPort: port(c.frontendAddress, flags, missing: missing, into: &out)
        case .backendIP: address(c.serverLocalAddress, flags, missing: missing, into: &out)
        case .backendPort: port(c.serverLocalAddress, flags, missing: missing, into: &out)
        case .serverIP: address(c.serverAddress, flags, missing: missing, into: &out)
        case .serverPort: port(c.serverAddress, flags, missing: missing, into: &out)
        case .timestamp: number(c.acceptSeconds, hex: hex, width: 8, into: &out)
        case .milliseconds: number(c.acceptMilliseconds, hex: hex, width: hex ? 2 : 3, zeroPadDecimal: true, into: &out)
        case .pid: number(Int(c.processID), hex: hex, width: 4, into: &out)
        case .requestCounter: number(max(0, c.requestCounter), hex: hex, width: 4, into: &out)
        case .logCounter: number(c.logCounter, hex: hex, width: 4, into: &out)
        case .frontend, .frontendTransport: text(c.frontendName, flags, missing: missing, into: &out)
        case .backend: text(c.backendName, flags, missing: missing, into: &out)
        case .server: text(c.serverName, flags, missing: missing, into: &out)
        case .hostname: text(hostname, flags, missing: missing, into: &out)
        case .uniqueID: text(c.uniqueID, flags, missing: missing, into: &out)
        case .captureRequestCookie: text(c.requestCookie, flags, missing: missing, into: &out)
        case .captureResponseCookie: text(c.responseCookie, flags, missing: missing, into: &out)
        // No TLS yet: nothing to print.
        case .sslCipher, .sslVersion: text([UInt8](), flags, missing: missing, into: &out)
        case .date: date(c.acceptSeconds, c.acceptMilliseconds, into: &out)
        case .gmtDate: LogDate.withZone(LogDate.gmt(c.acceptSeconds), into: &out)
        case .localDate: LogDate.withZone(LocalTimeCache.shared.time(c.acceptSeconds), into: &out)
        case .requestDate:
            let (seconds, milliseconds) = requestDate(c)
            date(seconds, milliseconds, into: &out)
        case .requestDateGMT: LogDate.withZone(LogDate.gmt(requestDate(c).seconds), into: &out)
        case .requestDateLocal: LogDate.withZone(LocalTimeCache.shared.time(requestDate(c).seconds), into: &out)
        // No TLS handshake and no PROXY header timing: HAProxy's 0 for a plain connection.
        case .handshakeTime: out.append(UInt8(ascii: "0"))
        case .idleTime: signed(c.idleTime, into: &out)
        case .requestHeadTime: signed(RequestLogContext.millis(c.requestStarted, c.headReceived), into: &out)
        case .requestTime: signed(RequestLogContext.millis(c.accepted, c.headReceived), into: &out)
        case .userTime, .activeTime: signed(RequestLogContext.millis(c.requestStarted ?? c.accepted, c.ended), into: &out)
        case .queueTime: signed(RequestLogContext.millis(c.queueStarted, c.queueEnded), into: &out)
        case .connectTime: signed(RequestLogContext.millis(c.connectStarted, c.connected), into: &out)
        case .responseTime: signed(RequestLogContext.millis(c.connected, c.responseHeadReceived), into: &out)
        case .totalTime: signed(RequestLogContext.millis(c.accepted, c.ended), into: &out)
        case .dataTime:
            // From the response head in HTTP, from the connect in TCP.
            signed(RequestLogContext.millis(c.isHTTP ? c.responseHeadReceived : c.connected, c.ended), into: &out)
        case .status: signed(c.isHTTP ? c.status ?? -1 : 0, into: &out)
        case .bytesRead: number(c.bytesOut, hex: false, width: 0, into: &out)
        case .bytesUploaded: number(c.bytesIn, hex: false, width: 0, into: &out)
        case .terminationState:
            out.append(c.terminationCause)
            out.append(c.terminationPhase)
        case .terminationStateWithCookies:
            out.append(c.terminationCause)
            out.append(c.terminationPhase)
            out.append(c.cookieState)
            out.append(c.setCookieState)
        case .activeConnections: number(c.activeConnections, hex: false, width: 0, into: &out)
        case .frontendConnections: number(c.frontendConnections, hex: false, width: 0, into: &out)
        case .backendConnections: number(c.backendConnections, hex: false, width: 0, into: &out)
        case .serverConnections: number(c.serverConnections, hex: false, width: 0, into: &out)
        case .retries:
            if c.redispatched { out.append(UInt8(ascii: "+")) }
            number(c.retries, hex: false, width: 0, into: &out)
        case .serverQueue: number(c.serverQueue, hex: false, width: 0, into: &out)
        case .backendQueue: number(c.backendQueue, hex: false, width: 0, into: &out)
        case .requestLine: encoded(c.requestLine ?? RequestLineParts.badRequest, flags, into: &out)
        case .method: encoded(RequestLineParts(c.requestLine).method, flags, into: &out)
        case .uri: encoded(RequestLineParts(c.requestLine).uri, flags, into: &out)
        case .path: encoded(RequestLineParts(c.requestLine).path, flags, into: &out)
        case .pathOnly: encoded(RequestLineParts(c.requestLine).pathOnly, flags, into: &out)
        case .query: encoded(RequestLineParts(c.requestLine).query, flags, into: &out)
        case .httpVersion: encoded(RequestLineParts(c.requestLine).version, flags, into: &out)
        case .capturedRequestHeaders: captures(c.requestCaptures, flags, list: false, into: &out)
        case .capturedResponseHeaders: captures(c.responseCaptures, flags, list: false, into: &out)
        case .capturedRequestHeaderList: captures(c.requestCaptures, flags, list: true, into: &out)
        case .capturedResponseHeaderList: captures(c.responseCaptures, flags, list: true, into: &out)
        case .optionSetter: break
        }
    }

    /// `%hr` is `{value1|value2}`, `%hrl` is `value1 value2` (an absent header `-`, or
    /// `""` quoted); without captures, nothing at all.
    static func captures(_ values: [[UInt8]?], _ flags: LogFormatFlags, list: Bool, into out: inout [UInt8]) {
        guard !values.isEmpty else { return }
        let quote = flags.contains(.quote), escape = flags.contains(.escape)
        if list {
            for (k, value) in values.enumerated() {
                if k > 0 { out.append(UInt8(ascii: " ")) }
                if quote { out.append(UInt8(ascii: "\"")) }
                if let value { LogEscaping.encode(value, .header, escape: escape, into: &out) } else if !quote { out.append(UInt8(ascii: "-")) }
                if quote { out.append(UInt8(ascii: "\"")) }
            }
            return
        }
        if quote { out.append(UInt8(ascii: "\"")) }
        out.append(UInt8(ascii: "{"))
        for (k, value) in values.enumerated() {
            if k > 0 { out.append(UInt8(ascii: "|")) }
            if let value { LogEscaping.encode(value, .header, escape: escape, into: &out) }
        }
        out.append(UInt8(ascii: "}"))
        if quote { out.append(UInt8(ascii: "\"")) }
    }

    /// The request's date, as HAProxy derives it: the accept date plus the idle time.
    static func requestDate(_ c: RequestLogContext) -> (seconds: Int, milliseconds: Int) {
        let total = c.acceptSeconds * 1000 + c.acceptMilliseconds + max(0, c.idleTime)
        return (total / 1000, total % 1000)
    }

    static func signed(_ value: Int, into out: inout [UInt8]) {
        if value < 0 { out.append(contentsOf: "-1".utf8) } else { number(value, hex: false, width: 0, into: &out) }
    }

    /// `25/Nov/2026:14:24:01.315`, local time, as HAProxy's `%t` and `%tr`.
    static func date(_ seconds: Int, _ milliseconds: Int, into out: inout [UInt8]) {
        LogDate.dayAndClock(LocalTimeCache.shared.time(seconds), into: &out)
        out.append(UInt8(ascii: "."))
        number(milliseconds, hex: false, width: 3, zeroPadDecimal: true, into: &out)
    }

    static func renderSample(_ expression: String, _ c: RequestLogContext, into out: inout [UInt8]) {
        switch expression {
        case "src": address(c.clientAddress, hex: false, into: &out)
        case "src_port": number(c.clientAddress?.port ?? 0, hex: false, width: 0, into: &out)
        case "dst": address(c.frontendAddress, hex: false, into: &out)
        case "dst_port": number(c.frontendAddress?.port ?? 0, hex: false, width: 0, into: &out)
        case "unique-id": out.append(contentsOf: c.uniqueID)
        case "fe_name": out.append(contentsOf: c.frontendName.utf8)
        case "be_name": out.append(contentsOf: c.backendName.utf8)
        case "srv_name": out.append(contentsOf: c.serverName.utf8)
        case "pid": number(Int(c.processID), hex: false, width: 0, into: &out)
        default: break
        }
    }

    /// An address as text (quoted with `Q`), or in hexadecimal with `X` (never quoted).
    static func address(_ value: SocketAddress?, _ flags: LogFormatFlags, missing: [UInt8], into out: inout [UInt8]) {
        guard let value else { return text([UInt8](), flags, missing: missing, into: &out) }
        if flags.contains(.hex), value.protocol != .unix {
            address(value, hex: true, into: &out)
            return
        }
        // An address needs no escaping and is never empty: only the quotes apply.
        let quote = flags.contains(.quote)
        if quote { out.append(UInt8(ascii: "\"")) }
        address(value, hex: false, into: &out)
        if quote { out.append(UInt8(ascii: "\"")) }
    }

    /// A port: a number (`%04X` with `X`), never quoted; without an address, an empty text.
    static func port(_ value: SocketAddress?, _ flags: LogFormatFlags, missing: [UInt8], into out: inout [UInt8]) {
        guard let value else { return text([UInt8](), flags, missing: missing, into: &out) }
        number(value.port ?? 0, hex: flags.contains(.hex), width: 4, into: &out)
    }

    static func address(_ address: SocketAddress?, hex: Bool, into out: inout [UInt8]) {
        guard let address else { out.append(UInt8(ascii: "-")); return }
        if hex {
            switch address {
            case .v4(let a):
                number(Int(UInt32(bigEndian: a.address.sin_addr.s_addr)), hex: true, width: 8, into: &out)
                return
            case .v6(let a):
                var raw = a.address.sin6_addr
                withUnsafeBytes(of: &raw) { bytes in
                    for b in bytes { number(Int(b), hex: true, width: 2, into: &out) }
                }
                return
            default:
                break
            }
        }
        if case .v4(let a) = address {
            dotted(a.address.sin_addr, into: &out)
        } else if let ip = address.ipAddress {
            out.append(contentsOf: ip.utf8)
        } else {
            out.append(contentsOf: "unix".utf8)
        }
    }

    static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Written in place: no digit array per number (a log line has a dozen).
    static func number(_ value: Int, hex: Bool, width: Int, zeroPadDecimal: Bool = false, into out: inout [UInt8]) {
        var v = UInt(max(0, value))
        let base: UInt = hex ? 16 : 10
        var count = 1
        var rest = v / base
        while rest > 0 {
            count += 1
            rest /= base
        }
        let length = hex || zeroPadDecimal ? max(count, width) : count
        var index = out.count + length - 1
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: length))
        repeat {
            out[index] = hexDigits[Int(v % base)]
            v /= base
            index -= 1
        } while v > 0
    }

    /// An IPv4 address in dotted decimal, without the string NIO would build for it.
    static func dotted(_ address: in_addr, into out: inout [UInt8]) {
        let host = UInt32(bigEndian: address.s_addr)
        number(Int(host >> 24), hex: false, width: 0, into: &out)
        for shift: UInt32 in stride(from: 16, through: 0, by: -8) {
            out.append(UInt8(ascii: "."))
            number(Int((host >> shift) & 0xFF), hex: false, width: 0, into: &out)
        }
    }
}
