import Testing
@testable import FulcrumCore

@Suite struct BalancerTests {
    @Test func leastConnectionsAvoidsTheBusyServerAndHonoursWeights() {
        var b = LeastConnectionsBalancer(weights: [1, 1, 2])
        let first = b.pick(excluding: [])!
        b.connectionTaken(first)
        var picks: [Int] = []
        for _ in 0..<4 {
            let p = b.pick(excluding: [])!
            b.connectionTaken(p)
            picks.append(p)
        }
        #expect(!picks.prefix(2).contains(first) || first == 2, "the busy server is avoided while others are idle")
        // Loads per weight end up level: server 2 (weight 2) carries about twice as many.
        #expect(b.active.reduce(0, +) == 5)
        #expect(b.active[2] >= b.active[0] && b.active[2] >= b.active[1])
        b.connectionReleased(2)
        b.connectionReleased(2)
        #expect(b.pick(excluding: []) == 2, "the server that freed up is the least loaded")
    }

    @Test func firstFillsServersInOrder() {
        var b = FirstAvailableBalancer(count: 3, weights: [1, 1, 1])
        #expect(b.pick(excluding: []) == 0)
        #expect(b.pick(excluding: [0]) == 1, "the first is full: the next one")
        b.setUsable(1, false)
        #expect(b.pick(excluding: [0]) == 2)
    }

    @Test func randomDrawsFollowWeightsAndPreferTheLessLoaded() {
        var b = RandomBalancer(weights: [1, 3], draws: 1, seed: 42)
        var counts = [0, 0]
        for _ in 0..<4000 { counts[b.pick(excluding: [])!] += 1 }
        #expect(counts[1] > counts[0] * 2 && counts[1] < counts[0] * 4, "weights 1:3 → \(counts)")
        var two = RandomBalancer(weights: [1, 1], draws: 2, seed: 7)
        for _ in 0..<10 { two.connectionTaken(0) }
        var toIdle = 0
        for _ in 0..<100 where two.pick(excluding: []) == 1 { toIdle += 1 }
        #expect(toIdle > 60, "with two draws the idle server wins whenever it is drawn (\(toIdle)/100)")
    }

    @Test func mapBasedHashingIsStableAndWeighted() {
        var b = HashBalancer(method: .mapBased, weights: [1, 1, 2], backup: [false, false, false])
        let key = HashFunction.sdbm.hash(Array("/images/logo.png".utf8), avalanche: false)
        let server = b.pick(excluding: [], hash: key)
        for _ in 0..<10 { #expect(b.pick(excluding: [], hash: key) == server, "the same key, the same server") }
        var counts = [0, 0, 0]
        for k in 0..<4000 { counts[b.pick(excluding: [], hash: HashFunction.djb2.hash(Array("k\(k)".utf8), avalanche: true))!] += 1 }
        #expect(counts[2] > counts[0] + counts[0] / 2, "weight 2 takes about twice the keys: \(counts)")
        #expect(b.pick(excluding: [], hash: nil) != nil, "no key: round robin")
    }

    @Test func consistentHashingMovesOnlyTheKeysOfTheServerThatLeft() {
        var b = HashBalancer(method: .consistent, weights: [1, 1, 1, 1], backup: [false, false, false, false])
        let keys = (0..<2000).map { HashFunction.sdbm.hash(Array("/object/\($0)".utf8), avalanche: true) }
        let before = keys.map { b.pick(excluding: [], hash: $0)! }
        #expect(Set(before).count == 4)
        b.setUsable(2, false)
        let after = keys.map { b.pick(excluding: [], hash: $0)! }
        for (k, owner) in before.enumerated() where owner != 2 {
            #expect(after[k] == owner, "key \(k) stayed on surviving server \(owner)")
        }
        #expect(!after.contains(2))
        b.setUsable(2, true)
        #expect(keys.map { b.pick(excluding: [], hash: $0)! } == before, "its keys come back with it")
    }

    @Test func boundedLoadsSendKeysOnWhenTheirServerIsAboveTheFactor() {
        var b = HashBalancer(method: .consistent, weights: [1, 1], backup: [false, false], balanceFactor: 125)
        let key = HashFunction.sdbm.hash(Array("hot".utf8), avalanche: true)
        let owner = b.pick(excluding: [], hash: key)!
        for _ in 0..<4 { b.connectionTaken(owner) }
        #expect(b.pick(excluding: [], hash: key) == 1 - owner, "the hot key's server is over 125% of the average: next on the ring")
    }

    @Test func hashFunctionsAreTheirPublishedAlgorithms() {
        #expect(HashFunction.crc32.hash(Array("123456789".utf8), avalanche: false) == 0xCBF4_3926, "the CRC-32 check value")
        #expect(HashFunction.djb2.hash(Array("a".utf8), avalanche: false) == 5381 &* 33 &+ 97)
        #expect(HashFunction.sdbm.hash(Array("a".utf8), avalanche: false) == 97)
        #expect(HashFunction.none.hash([1, 2, 3, 4, 5], avalanche: false) == 0x0102_0304)
    }

    @Test func requestKeys() {
        let target = Array("/a/b/c/d?x=1&user=42&y".utf8)
        #expect(BalanceKey.uriKey(target, length: nil, depth: nil, whole: false, pathOnly: false) == Array("/a/b/c/d".utf8))
        #expect(BalanceKey.uriKey(target, length: nil, depth: nil, whole: true, pathOnly: false) == target)
        #expect(BalanceKey.uriKey(target, length: nil, depth: 2, whole: false, pathOnly: false) == Array("/a/b".utf8))
        #expect(BalanceKey.uriKey(target, length: 4, depth: nil, whole: false, pathOnly: false) == Array("/a/b".utf8))
        #expect(BalanceKey.uriKey(Array("http://h:80/p?q".utf8), length: nil, depth: nil, whole: false, pathOnly: true) == Array("/p".utf8))
        #expect(BalanceKey.queryParameter(target, "user") == Array("42".utf8))
        #expect(BalanceKey.queryParameter(target, "y") == [])
        #expect(BalanceKey.queryParameter(target, "z") == nil)
        #expect(BalanceKey.domainOnly(Array("www.example.com:8080".utf8)) == Array("example".utf8))
    }

    @Test func everyAlgorithmIsBuiltOrRefusedWithAReason() throws {
        let weights = [1, 1], backup = [false, false]
        for algorithm: BalanceAlgorithm in [.roundRobin, .staticRoundRobin, .leastConnections, .first, .source, .random(draws: 3),
                                            .uri(arguments: ["len", "10", "whole"]), .urlParameter(name: "u", arguments: ["check_post"]),
                                            .header(name: "Host", arguments: ["use_domain_only"])] {
            _ = try AnyBalancer.make(algorithm, hashType: HashType(), weights: weights, backup: backup, useAllBackups: false, balanceFactor: 0)
        }
        #expect(throws: AnyBalancer.Unsupported.self) {
            _ = try AnyBalancer.make(.rdpCookie(name: "mstshash"), hashType: HashType(), weights: weights, backup: backup, useAllBackups: false, balanceFactor: 0)
        }
        var wt6 = HashType()
        wt6.function = "wt6"
        #expect(throws: AnyBalancer.Unsupported.self) {
            _ = try AnyBalancer.make(.source, hashType: wt6, weights: weights, backup: backup, useAllBackups: false, balanceFactor: 0)
        }
    }
}
