import NIOCore
import NIOEmbedded
import Testing
@testable import FulcrumProxy

/// The idle set of server connections: bounded (so connections nobody will reuse do
/// not pile up), per-server limits, last parked first taken, and O(1) removal of a
/// connection the server closed, wherever it sits.
@Suite struct IdleServerConnectionsTests {
    func connection(_ loop: EmbeddedEventLoop, _ set: IdleServerConnections, server: Int = 0) throws -> HTTPServerConnection {
        let channel = EmbeddedChannel(loop: loop)
        let c = HTTPServerConnection(server: server, idleSet: set)
        try channel.pipeline.syncOperations.addHandler(c)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return c
    }

    @Test func boundedAndFirstInLastOut() throws {
        let loop = EmbeddedEventLoop()
        let set = IdleServerConnections(loops: [loop], servers: 2, maxPerServer: [nil, 1], maxTotal: 3)
        let a = try connection(loop, set), b = try connection(loop, set), c = try connection(loop, set), d = try connection(loop, set)
        #expect(set.park(a, server: 0, on: loop) && set.park(b, server: 0, on: loop) && set.park(c, server: 0, on: loop))
        #expect(!set.park(d, server: 0, on: loop), "the fourth goes beyond the bound: closed instead of kept")
        #expect(set.take(server: 0, on: loop) === c)
        let e = try connection(loop, set, server: 1), f = try connection(loop, set, server: 1)
        #expect(set.park(e, server: 1, on: loop))
        #expect(!set.park(f, server: 1, on: loop), "pool-max-conn 1")
    }

    @Test func removingAnyConnectionKeepsTheOthers() throws {
        let loop = EmbeddedEventLoop()
        let set = IdleServerConnections(loops: [loop], servers: 1, maxTotal: 100)
        let all = try (0..<5).map { _ in try connection(loop, set) }
        for c in all { #expect(set.park(c, server: 0, on: loop)) }
        set.remove(all[1], server: 0, on: loop)
        set.remove(all[1], server: 0, on: loop)   // twice: nothing more happens
        set.remove(all[4], server: 0, on: loop)
        var taken: [ObjectIdentifier] = []
        while let c = set.take(server: 0, on: loop) { taken.append(ObjectIdentifier(c)) }
        #expect(Set(taken) == Set([all[0], all[2], all[3]].map(ObjectIdentifier.init)))
        #expect(set.park(all[1], server: 0, on: loop), "room again after the removals")
    }
}
