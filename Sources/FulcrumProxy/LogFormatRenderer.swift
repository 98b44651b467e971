#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore

/// Renders a compiled log-format for one request. Variables the data plane does not
/// know yet (timers and counters come with the logging issue) render as `-`, which is
/// HAProxy's own output for an unknown value.
enum LogFormatRenderer {
    /// Sample fetches `%[...]` accepts so far.
    static let supportedSamples: Set<String> = ["src", "src_port", "dst", "dst_port", "unique-id", "fe_name", "be_name", "srv_name", "pid"]

    /// `samples` evaluates the `%[...]` expressions of rule formats against the
    /// transaction; without it only the connection-level fetches render.
    /// `missing`: what a fetch without a value prints: `-` in log lines, nothing in
    /// header values and other rule arguments (as HAProxy prints them).
    static func render(_ format: LogFormat, _ context: RequestLogContext, into out: inout [UInt8],
                       samples: (expressions: [String: SampleExpression], context: SampleContext)? = nil, missing: [UInt8] = [UInt8(ascii: "-")]) {
        // A capture list that is empty (`%hr`, `%hs` without captures) takes the space
        // after it along, as HAProxy prints it.
        var skipSpace = false
        for node in format.nodes {
            switch node {
            case .literal(let bytes):
                out += skipSpace && bytes.first == UInt8(ascii: " ") ? Array(bytes.dropFirst()) : bytes
                skipSpace = false
            case .variable(let variable, let flags):
                skipSpace = false
                if variable == .capturedRequestHeaders || variable == .capturedResponseHeaders {
                    let captures = variable == .capturedRequestHeaders ? context.requestCaptures : context.responseCaptures
                    if captures.isEmpty {
                        skipSpace = true
                        continue
                    }
                    // `{value1|value2}`, as HAProxy prints its captures.
                    if flags.contains(.quote) { out.append(UInt8(ascii: "\"")) }
                    out.append(UInt8(ascii: "{"))
                    for (k, value) in captures.enumerated() {
                        if k > 0 { out.append(UInt8(ascii: "|")) }
                        out += value ?? []
                    }
                    out.append(UInt8(ascii: "}"))
                    if flags.contains(.quote) { out.append(UInt8(ascii: "\"")) }
                    continue
                }
                if flags.contains(.quote) { out.append(UInt8(ascii: "\"")) }
                renderVariable(variable, flags, context, into: &out)
                if flags.contains(.quote) { out.append(UInt8(ascii: "\"")) }
            case .sample(let expression, let flags):
                skipSpace = false
                if flags.contains(.quote) { out.append(UInt8(ascii: "\"")) }
                if let samples, let compiled = samples.expressions[expression] {
                    out += compiled.value(in: samples.context)?.bytes ?? missing
                } else {
                    renderSample(expression, flags, context, into: &out)
                }
                if flags.contains(.quote) { out.append(UInt8(ascii: "\"")) }
            }
        }
    }

    static func render(_ format: LogFormat, _ context: RequestLogContext,
                       samples: (expressions: [String: SampleExpression], context: SampleContext)? = nil, missing: [UInt8] = [UInt8(ascii: "-")]) -> [UInt8] {
        if format.isConstant { return format.constantBytes }
        var out: [UInt8] = []
        render(format, context, into: &out, samples: samples, missing: missing)
        return out
    }

    /// Refuses a format whose `%[...]` fetches need a transaction where only the
    /// connection is known (access logs, unique IDs).
    static func checkConnectionSamples(_ format: LogFormat, _ proxy: ProxyConfig, _ what: String) throws {
        for case .sample(let expression, _) in format.nodes where !supportedSamples.contains(expression) {
            throw ProxyStartError("\(proxy.displayName): \(what): sample fetch '%[\(expression)]' is not implemented here yet (supported: \(supportedSamples.sorted().joined(separator: ", ")))")
        }
    }

    static func renderVariable(_ variable: LogVariable, _ flags: LogFormatFlags, _ c: RequestLogContext, into out: inout [UInt8]) {
        let hex = flags.contains(.hex)
        switch variable {
        case .clientIP: address(c.clientAddress, hex: hex, into: &out)
        case .clientPort: number(c.clientAddress?.port ?? 0, hex: hex, width: 4, into: &out)
        case .frontendIP: address(c.frontendAddress, hex: hex, into: &out)
        case .frontendPort: number(c.frontendAddress?.port ?? 0, hex: hex, width: 4, into: &out)
        case .timestamp: number(c.acceptSeconds, hex: hex, width: 8, into: &out)
        case .milliseconds: number(c.acceptMilliseconds, hex: hex, width: hex ? 2 : 3, zeroPadDecimal: true, into: &out)
        case .pid: number(Int(c.processID), hex: hex, width: 4, into: &out)
        case .requestCounter: number(c.requestCounter, hex: hex, width: 4, into: &out)
        case .frontend, .frontendTransport: out.append(contentsOf: c.frontendName.utf8)
        case .backend: out.append(contentsOf: c.backendName.utf8)
        case .server: out.append(contentsOf: c.serverName.utf8)
        case .uniqueID: out += c.uniqueID.isEmpty ? [UInt8(ascii: "-")] : c.uniqueID
        case .date: date(c.acceptSeconds, c.acceptMilliseconds, into: &out)
        case .requestDate: date(c.requestStarted == nil ? c.acceptSeconds : c.requestSeconds, c.requestStarted == nil ? c.acceptMilliseconds : c.requestMilliseconds, into: &out)
        case .requestHeadTime: signed(RequestLogContext.millis(c.requestStarted, c.headReceived), into: &out)
        case .requestTime: signed(RequestLogContext.millis(c.accepted, c.headReceived), into: &out)
        case .userTime: signed(RequestLogContext.millis(c.requestStarted ?? c.accepted, c.ended), into: &out)
        case .queueTime: signed(RequestLogContext.millis(c.queueStarted, c.queueEnded), into: &out)
        case .connectTime: signed(RequestLogContext.millis(c.connectStarted, c.connected), into: &out)
        case .responseTime: signed(RequestLogContext.millis(c.connected, c.responseHeadReceived), into: &out)
        case .activeTime: signed(RequestLogContext.millis(c.requestStarted ?? c.accepted, c.ended), into: &out)
        case .totalTime: signed(RequestLogContext.millis(c.accepted, c.ended), into: &out)
        case .dataTime:
            signed(c.responseHeadReceived == nil ? -1 : RequestLogContext.millis(c.responseHeadReceived, c.ended), into: &out)
        case .status: signed(c.status ?? -1, into: &out)
        case .bytesRead: number(c.bytesOut, hex: hex, width: 0, into: &out)
        case .bytesUploaded: number(c.bytesIn, hex: hex, width: 0, into: &out)
        case .terminationState: out += [c.terminationCause, c.terminationPhase]
        case .terminationStateWithCookies: out += [c.terminationCause, c.terminationPhase, UInt8(ascii: "-"), UInt8(ascii: "-")]
        case .activeConnections: number(c.activeConnections, hex: hex, width: 0, into: &out)
        case .frontendConnections: number(c.frontendConnections, hex: hex, width: 0, into: &out)
        case .backendConnections: number(c.backendConnections, hex: hex, width: 0, into: &out)
        case .serverConnections: number(c.serverConnections, hex: hex, width: 0, into: &out)
        case .retries: number(c.retries, hex: hex, width: 0, into: &out)
        case .serverQueue: number(c.serverQueue, hex: hex, width: 0, into: &out)
        case .backendQueue: number(c.backendQueue, hex: hex, width: 0, into: &out)
        case .requestLine: out += c.requestLine ?? Array("<BADREQ>".utf8)
        default: out.append(UInt8(ascii: "-"))
        }
    }

    static func signed(_ value: Int, into out: inout [UInt8]) {
        if value < 0 { out.append(contentsOf: "-1".utf8) } else { number(value, hex: false, width: 0, into: &out) }
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `25/Nov/2026:14:24:01.315`, local time, as HAProxy's `%t` and `%tr`.
    static func date(_ seconds: Int, _ milliseconds: Int, into out: inout [UInt8]) {
        let tm = LocalTimeCache.shared.time(seconds)
        func two(_ v: Int32) { if v < 10 { out.append(UInt8(ascii: "0")) }; number(Int(v), hex: false, width: 0, into: &out) }
        two(tm.day)
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: months[Int(tm.month)].utf8)
        out.append(UInt8(ascii: "/"))
        number(Int(tm.year), hex: false, width: 0, into: &out)
        out.append(UInt8(ascii: ":"))
        two(tm.hour)
        out.append(UInt8(ascii: ":"))
        two(tm.minute)
        out.append(UInt8(ascii: ":"))
        two(tm.second)
        out.append(UInt8(ascii: "."))
        number(milliseconds, hex: false, width: 3, zeroPadDecimal: true, into: &out)
    }

    static func renderSample(_ expression: String, _ flags: LogFormatFlags, _ c: RequestLogContext, into out: inout [UInt8]) {
        switch expression {
        case "src": address(c.clientAddress, hex: false, into: &out)
        case "src_port": number(c.clientAddress?.port ?? 0, hex: false, width: 0, into: &out)
        case "dst": address(c.frontendAddress, hex: false, into: &out)
        case "dst_port": number(c.frontendAddress?.port ?? 0, hex: false, width: 0, into: &out)
        case "unique-id": out += c.uniqueID
        case "fe_name": out.append(contentsOf: c.frontendName.utf8)
        case "be_name": out.append(contentsOf: c.backendName.utf8)
        case "srv_name": out.append(contentsOf: c.serverName.utf8)
        case "pid": number(Int(c.processID), hex: false, width: 0, into: &out)
        default: out.append(UInt8(ascii: "-"))
        }
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
        if let ip = address.ipAddress { out.append(contentsOf: ip.utf8) } else { out.append(contentsOf: "unix".utf8) }
    }

    static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func number(_ value: Int, hex: Bool, width: Int, zeroPadDecimal: Bool = false, into out: inout [UInt8]) {
        var digits: [UInt8] = []
        var v = max(0, value)
        let base = hex ? 16 : 10
        repeat {
            digits.append(hexDigits[v % base])
            v /= base
        } while v > 0
        if hex || zeroPadDecimal {
            while digits.count < width { digits.append(UInt8(ascii: "0")) }
        }
        out += digits.reversed()
    }
}
