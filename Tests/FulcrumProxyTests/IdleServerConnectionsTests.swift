#if canImport(Glibc)
import Glibc
#endif
import FulcrumEventLoop
import NIOCore
import Testing
@testable import FulcrumProxy

/// The idle set of server connections: bounded (so connections nobody will reuse do
/// not pile up), per-server limits, last parked first taken, and O(1) removal of a
/// connection the server closed, wherever it sits.
@Suite struct IdleServerConnectionsTests {
    /// A usable connection: one end of a socket pair on the loop (the other end stays
    /// open, leaked for the test's length).
    func connection(_ loop: EpollEventLoop, _ set: IdleServerConnections, server: Int = 0) throws -> HTTPServerConnection {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair) == 0 else {
            throw IOError(errnoCode: errno, reason: "socketpair")
        }
        let c = HTTPServerConnection(server: server, idleSet: set)
        try c.adopt(pair[0], connecting: false, on: loop)
        return c
    }

    /// Runs `body` on a fresh loop's thread, where the idle set lives.
    func onLoop(_ body: @escaping @Sendable (EpollEventLoop) throws -> Void) throws {
        let loop = try EpollEventLoop(name: "idle-test")
        defer { try? loop.syncShutdownGracefully() }
        try loop.submit { try body(loop) }.wait()
    }

    @Test func boundedAndFirstInLastOut() throws {
        try onLoop { loop in
            let set = IdleServerConnections(loops: [loop], servers: 2, maxPerServer: [nil, 1], maxTotal: 3)
            let a = try connection(loop, set), b = try connection(loop, set), c = try connection(loop, set), d = try connection(loop, set)
            for _ in 0..<4 { set.began(server: 0, on: loop) }
            for _ in 0..<4 { set.ended(server: 0, on: loop) }
            #expect(set.park(a, server: 0, on: loop) && set.park(b, server: 0, on: loop) && set.park(c, server: 0, on: loop))
            #expect(!set.park(d, server: 0, on: loop), "the fourth goes beyond the bound: closed instead of kept")
            #expect(set.take(server: 0, on: loop) === c)
            let e = try connection(loop, set, server: 1), f = try connection(loop, set, server: 1)
            for _ in 0..<2 { set.began(server: 1, on: loop) }
            #expect(set.park(e, server: 1, on: loop))
            #expect(!set.park(f, server: 1, on: loop), "pool-max-conn 1")
        }
    }

    @Test func removingAnyConnectionKeepsTheOthers() throws {
        try onLoop { loop in
            let set = IdleServerConnections(loops: [loop], servers: 1, maxTotal: 100)
            let all = try (0..<5).map { _ in try connection(loop, set) }
            for _ in all { set.began(server: 0, on: loop) }
            for c in all {
                set.ended(server: 0, on: loop)
                #expect(set.park(c, server: 0, on: loop))
            }
            set.remove(all[1], server: 0, on: loop)
            set.remove(all[1], server: 0, on: loop)   // twice: nothing more happens
            set.remove(all[4], server: 0, on: loop)
            var taken: [ObjectIdentifier] = []
            while let c = set.take(server: 0, on: loop) { taken.append(ObjectIdentifier(c)) }
            #expect(Set(taken) == Set([all[0], all[2], all[3]].map(ObjectIdentifier.init)))
            #expect(set.park(all[1], server: 0, on: loop), "room again after the removals")
        }
    }

    /// No more idle connections than were recently in use at once: clients that hold
    /// their connection without a request do not keep server connections open.
    @Test func keepsNoMoreThanRecentlyUsed() throws {
        try onLoop { loop in
            let set = IdleServerConnections(loops: [loop], servers: 1, maxTotal: 100)
            let all = try (0..<4).map { _ in try connection(loop, set) }
            // One connection at a time, four times over: one idle is enough.
            for c in all {
                set.began(server: 0, on: loop)
                set.ended(server: 0, on: loop)
                _ = set.park(c, server: 0, on: loop)
            }
            var kept = 0
            while set.take(server: 0, on: loop) != nil { kept += 1 }
            #expect(kept == 1)
        }
    }
}
