import Testing
@testable import FulcrumCore

@Suite struct RoundRobinBalancerTests {
    func sequence(_ b: inout RoundRobinBalancer, _ n: Int, excluding: Set<Int> = []) -> [Int?] {
        (0..<n).map { _ in b.pick(excluding: excluding) }
    }

    @Test func equalWeightsRotateInOrder() {
        var b = RoundRobinBalancer(servers: [(1, false), (1, false), (1, false)])
        #expect(sequence(&b, 6) == [0, 1, 2, 0, 1, 2])
    }

    @Test func weightsInterleaveSmoothly() {
        var b = RoundRobinBalancer(servers: [(5, false), (1, false), (1, false)])
        let picks = sequence(&b, 7).compactMap { $0 }
        #expect(picks == [0, 0, 1, 0, 2, 0, 0])
        #expect(picks.filter { $0 == 0 }.count == 5)
    }

    @Test func exclusionsAndUnusableServersAreSkipped() {
        var b = RoundRobinBalancer(servers: [(1, false), (1, false)])
        #expect(sequence(&b, 3, excluding: [0]) == [1, 1, 1])
        b.setUsable(1, false)
        #expect(b.pick(excluding: []) == 0)
        #expect(b.pick(excluding: [0]) == nil)
    }

    @Test func backupsOnlyWhenNoActiveServerIsLeft() {
        var b = RoundRobinBalancer(servers: [(1, false), (1, true), (1, true)])
        #expect(sequence(&b, 2) == [0, 0])
        b.setUsable(0, false)
        #expect(sequence(&b, 2) == [1, 1], "only the first backup without allbackups")
        var all = RoundRobinBalancer(servers: [(1, false), (1, true), (1, true)], useAllBackups: true)
        all.setUsable(0, false)
        #expect(sequence(&all, 2) == [1, 2])
    }

    @Test func zeroWeightIsNeverPicked() {
        var b = RoundRobinBalancer(servers: [(0, false), (1, false)])
        #expect(sequence(&b, 3) == [1, 1, 1])
    }
}

@Suite struct ConnectRetryPolicyTests {
    @Test func retriesTheSameServerThenGivesUp() {
        var p = ConnectRetryPolicy(retries: 3, redispatch: false)
        #expect([p.afterFailure(), p.afterFailure(), p.afterFailure(), p.afterFailure()] == [.retrySameServer, .retrySameServer, .retrySameServer, .giveUp])
    }

    @Test func redispatchOnTheLastRetry() {
        var p = ConnectRetryPolicy(retries: 3, redispatch: true)
        #expect([p.afterFailure(), p.afterFailure(), p.afterFailure(), p.afterFailure()] == [.retrySameServer, .retrySameServer, .redispatch, .giveUp])
        var none = ConnectRetryPolicy(retries: 0, redispatch: true)
        #expect(none.afterFailure() == .giveUp)
    }
}
