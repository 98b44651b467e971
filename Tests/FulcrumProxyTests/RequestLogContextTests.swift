import NIOCore
import Testing
@testable import FulcrumProxy

/// The log-only fields live in a side object shared between copies until one of them
/// changes: each copy must still behave as a value of its own.
@Suite struct RequestLogContextTests {
    @Test func logOnlyFieldsDefaultWithoutSideObject() {
        var log = RequestLogContext(frontendName: "fe")
        #expect(log.requestLine == nil && log.requestCaptures.isEmpty && log.responseCaptures.isEmpty)
        #expect(log.requestCookie == nil && log.responseCookie == nil && log.serverAddress == nil && log.serverLocalAddress == nil)
        #expect(log.logCounter == 0 && log.activeConnections == 0 && log.backendQueue == 0 && log.serverQueue == 0)
        // Setting a default is a no-op, then the request terminates as one never parsed.
        log.requestLine = nil
        log.requestCaptures = []
        log.terminate("C", "R")
        #expect(log.status == 400)
    }

    @Test func copiesAreIndependent() throws {
        var original = RequestLogContext(frontendName: "fe")
        original.requestLine = Array("GET / HTTP/1.1".utf8)
        original.requestCaptures = [Array("a".utf8), nil]
        original.activeConnections = 3
        original.serverAddress = try SocketAddress(ipAddress: "10.0.0.1", port: 80)

        var copy = original
        copy.requestLine = Array("POST /x HTTP/1.1".utf8)
        copy.requestCaptures[1] = Array("b".utf8)
        copy.requestCaptures += [nil]
        copy.activeConnections = 4
        #expect(original.requestLine == Array("GET / HTTP/1.1".utf8))
        #expect(original.requestCaptures == [Array("a".utf8), nil])
        #expect(original.activeConnections == 3)
        #expect(copy.requestCaptures == [Array("a".utf8), Array("b".utf8), nil])
        #expect(copy.serverAddress == original.serverAddress)

        // The next request clears the copy's request fields, not the original's; the
        // sampled counts stay until the next line samples them again.
        copy.nextRequest()
        #expect(copy.requestLine == nil && copy.requestCaptures.isEmpty && copy.serverAddress == nil)
        #expect(copy.activeConnections == 4)
        #expect(original.requestLine == Array("GET / HTTP/1.1".utf8) && original.serverAddress != nil)
    }

    @Test func clearedInPlaceForTheNextRequest() {
        var log = RequestLogContext(frontendName: "fe")
        log.requestLine = Array("GET / HTTP/1.1".utf8)
        log.responseCookie = Array("c".utf8)
        log.nextRequest()
        #expect(log.requestLine == nil && log.responseCookie == nil)
        log.requestLine = Array("GET /2 HTTP/1.1".utf8)
        #expect(log.requestLine == Array("GET /2 HTTP/1.1".utf8))
    }
}
