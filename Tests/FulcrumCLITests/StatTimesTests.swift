import Foundation
import Testing

/// `show stat`'s queue, connect and total times on a keep-alive connection without an
/// access log: each request is timed on its own, not from the connection's first one.
@Suite(.serialized) struct StatTimesTests {
    @Test func keepAliveRequestsAreTimedOnTheirOwnWithoutALog() throws {
        let running = RunningProcesses()
        defer { running.stopAll() }
        let ports = try HTTPProxyTests().startBackends(running, ["a"])
        let sockets = try RuntimeAPICommandTests.Sockets()
        let front = Loopback.freePort()
        let config = try FulcrumProcess.temporaryFile(sockets.global + HTTPProxyTests.httpDefaults()
            + "listen l\n  bind 127.0.0.1:\(front)\n  server a 127.0.0.1:\(ports[0])\n")
        try running.start(FulcrumProcess.binary.path, ["-db", "-f", config.path])
        try running.waitForListener(front)
        let client = try HTTPTestConnection(port: front)
        for _ in 0..<4 {
            client.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse()?.status == 200)
            usleep(400_000)
        }
        func stat(_ column: String) throws -> Int {
            Int(try RuntimeAPICommandTests.stat(sockets.admin, "l", "a", column)) ?? -1
        }
        // Before, the later requests' queue time ran from the first request's: over 500 ms.
        #expect(try stat("qtime") < 100, "qtime")
        #expect(try stat("ctime") < 100, "ctime")
        // From the end of the previous request (idle time included, as HAProxy counts it),
        // not from the first one: under the 400 ms pause plus the request's own time.
        #expect(try stat("ttime") < 700, "ttime")
        #expect(try stat("wretr") == 0, "no retries counted")
    }
}
