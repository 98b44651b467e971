import Foundation

/// A response as a test client saw it, bytes included.
struct HTTPTestResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var raw: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The JSON the test backend answers with on /echo.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// The request headers the backend received, from /echo's JSON.
    var receivedHeaders: [(String, String)] {
        ((json?["headers"] as? [[String]]) ?? []).map { ($0[0], $0[1]) }
    }
}

/// A raw HTTP/1.1 client on a blocking socket, so tests control every byte sent
/// (pipelining, malformed requests, trickled heads) and see every byte received.
final class HTTPTestConnection {
    private(set) var fd: Int32
    private var buffer: [UInt8] = []

    /// `receiveBuffer` and `segmentSize`: see `Loopback.connectLoopback`.
    init(port: Int, timeout: Int = 10, source: String? = nil, receiveBuffer: Int32? = nil, segmentSize: Int32? = nil) throws {
        guard let fd = Loopback.connectLoopback(port, source: source, receiveBuffer: receiveBuffer, segmentSize: segmentSize) else {
            throw POSIXError(.ECONNREFUSED)
        }
        self.fd = fd
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Wraps a socket accepted by a scripted backend.
    init(fd: Int32, timeout: Int = 10) {
        self.fd = fd
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Closes the socket now (the descriptor is not closed again later).
    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Closes the socket with a reset (a zero linger time) instead of a FIN.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        disconnect()
    }

    /// The local port, which `show sess` prints as the connection's source.
    var localPort: Int {
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: local.sin_port))
    }

    /// The peer's port.
    var peerPort: Int {
        var peer = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) } }
        return Int(UInt16(bigEndian: peer.sin_port))
    }

    func send(_ text: String) {
        send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads more bytes; false at end of stream (or on timeout, which throws).
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n < 0 { throw POSIXError(.ETIMEDOUT) }
        if n == 0 { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// Exactly `count` bytes (fewer if the connection ends first).
    func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count, try fill() {}
        let out = Array(buffer.prefix(count))
        buffer.removeFirst(out.count)
        return out
    }

    /// Everything until the server closes.
    func readToEnd() throws -> [UInt8] {
        while try fill() {}
        defer { buffer = [] }
        return buffer
    }

    /// True when the peer has closed (nothing more arrives).
    func isClosedByPeer() -> Bool {
        (try? fill()) == false
    }

    /// The next response (interim 1xx ones included); nil if the connection ended first.
    func readResponse(forHEAD: Bool = false) throws -> HTTPTestResponse? {
        var headEnd: Int?
        while true {
            if let r = find([13, 10, 13, 10]) { headEnd = r; break }
            guard try fill() else { return nil }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var consumed = headEnd! + 4
        var body: [UInt8] = []
        let lower = Dictionary(headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        if forHEAD || status < 200 || status == 204 || status == 304 {
        } else if lower["transfer-encoding"]?.lowercased().contains("chunked") == true {
            while true {
                var lineEnd: Int?
                while true {
                    if let r = find([13, 10], from: consumed) { lineEnd = r; break }
                    guard try fill() else { return nil }
                }
                let size = Int(String(decoding: buffer[consumed..<lineEnd!], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
                consumed = lineEnd! + 2
                if size == 0 {
                    while find([13, 10], from: consumed) == nil { guard try fill() else { return nil } }
                    consumed = find([13, 10], from: consumed)! + 2
                    break
                }
                while buffer.count < consumed + size + 2 { guard try fill() else { return nil } }
                body += buffer[consumed..<(consumed + size)]
                consumed += size + 2
            }
        } else if let length = lower["content-length"].flatMap({ Int($0) }) {
            while buffer.count < consumed + length { guard try fill() else { break } }
            body = Array(buffer[consumed..<min(buffer.count, consumed + length)])
            consumed = min(buffer.count, consumed + length)
        } else {
            while try fill() {}
            body = Array(buffer[consumed...])
            consumed = buffer.count
        }
        let raw = Array(buffer[0..<consumed])
        buffer.removeFirst(consumed)
        return HTTPTestResponse(status: status, headers: headers, body: body, raw: raw)
    }

    private func find(_ needle: [UInt8], from: Int = 0) -> Int? {
        guard buffer.count >= needle.count + from else { return nil }
        var i = from
        while i + needle.count <= buffer.count {
            if buffer[i] == needle[0] && Array(buffer[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    /// One request on a fresh connection.
    static func get(_ port: Int, _ path: String, headers: String = "") throws -> HTTPTestResponse? {
        let c = try HTTPTestConnection(port: port)
        c.send("GET \(path) HTTP/1.1\r\nHost: test\r\n\(headers)Connection: close\r\n\r\n")
        return try c.readResponse()
    }
}
