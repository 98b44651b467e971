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
        #expect(HashFunction.none.hash(Array("1234abc".utf8), avalanche: false) == 1234, "none: the key's leading number")
        #expect(HashFunction.none.hash(Array("x".utf8), avalanche: false) == 0)
    }

    /// Values HAProxy 2.6's converters print (`str(K),sdbm`, `sdbm(1)`, `djb2`,
    /// `djb2(1)`, `wt6`, `wt6(1)`, `crc32`), so both hash every key alike.
    @Test func hashesAreHAProxysBitForBit() {
        let vectors: [(String, [UInt32])] = [
            ("a", [97, 1_830_748_055, 177_670, 3_548_763_807, 1_900_802_597, 1_986_649_387, 3_904_355_907]),
            ("abc", [807_794_786, 659_243_622, 193_485_963, 2_235_766_107, 2_483_038_440, 266_135_527, 891_568_578]),
            ("hello world", [430_867_652, 261_123_301, 894_552_257, 2_328_455_893, 1_866_899_626, 2_174_767_729, 222_957_957]),
            ("127.0.0.1", [1_894_847_165, 88_673_145, 1_532_542_490, 959_482_364, 72_828_719, 3_180_592_676, 3_619_153_832]),
            ("12345", [803_477_555, 2_486_420_844, 194_116_516, 3_643_452_069, 542_456_068, 1_149_784_632, 3_421_846_044]),
        ]
        for (key, expected) in vectors {
            let k = Array(key.utf8)
            let got: [UInt32] = [HashFunction.sdbm.hash(k, avalanche: false), HashFunction.sdbm.hash(k, avalanche: true),
                                 HashFunction.djb2.hash(k, avalanche: false), HashFunction.djb2.hash(k, avalanche: true),
                                 HashFunction.wt6.hash(k, avalanche: false), HashFunction.wt6.hash(k, avalanche: true),
                                 HashFunction.crc32.hash(k, avalanche: false)]
            #expect(got == expected, "\(key)")
        }
        // `str(K),hex` of an integer sample is 8 big-endian bytes: `sdbm` of 7919 as HAProxy prints it.
        #expect(HashFunction.sdbm.hash(BalanceKey.binary(.integer(7919)), avalanche: false) == 1_968_209)
        #expect(BalanceKey.sourceHash([127, 0, 0, 1]) == 0x7F00_0001, "source: the address itself, no hash function")
    }

    @Test func mapBasedTableInterleavesReducedWeights() {
        #expect(HashBalancer.interleavedTable([1, 1, 1]) == [0, 1, 2])
        #expect(HashBalancer.interleavedTable([2, 1]) == [0, 0, 1])
        #expect(HashBalancer.interleavedTable([20, 10]) == [0, 0, 1], "weights reduced by their common divisor")
        // The layout HAProxy 2.6 builds (checked side by side with 60 keys).
        #expect(HashBalancer.interleavedTable([2, 3, 1]) == [0, 1, 0, 1, 1, 2])
        #expect(HashBalancer.interleavedTable([0, 0]) == [])
        var b = HashBalancer(method: .mapBased, weights: [2, 3, 1], backup: [false, false, false])
        #expect((0..<6).map { b.pick(excluding: [], hash: UInt32($0)) } == [0, 1, 0, 1, 1, 2])
        #expect((0..<3).map { b.pick(excluding: [1], hash: UInt32($0)) } == [0, 0, 2], "without server 1: weights 2, 1")
        b.setUsable(1, false)
        #expect(b.pick(excluding: [], hash: 2) == 2)
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
        #expect(BalanceKey.formParameter(Array("a=1&user=42&b=2".utf8), "user") == Array("42".utf8))
        #expect(BalanceKey.formParameter(Array("a=1".utf8), "user") == nil)
    }

    @Test func everyAlgorithmIsBuiltOrRefusedWithAReason() throws {
        let weights = [1, 1], backup = [false, false]
        for algorithm: BalanceAlgorithm in [.roundRobin, .staticRoundRobin, .leastConnections, .first, .source, .random(draws: 3),
                                            .uri(arguments: ["len", "10", "whole"]), .urlParameter(name: "u", arguments: ["check_post"]),
                                            .header(name: "Host", arguments: ["use_domain_only"])] {
            _ = try AnyBalancer.make(algorithm, hashType: HashType(), weights: weights, backup: backup, useAllBackups: false, balanceFactor: 0)
        }
        var wt6 = HashType()
        wt6.function = "wt6"
        for algorithm: BalanceAlgorithm in [.rdpCookie(name: "mstshash"), .hash(expression: "req.hdr(host),lower"), .source] {
            _ = try AnyBalancer.make(algorithm, hashType: wt6, weights: weights, backup: backup, useAllBackups: false, balanceFactor: 0)
        }
        #expect(throws: AnyBalancer.Unsupported.self) {
            _ = try AnyBalancer.make(.hash(expression: "nosuchfetch"), hashType: HashType(), weights: weights, backup: backup, useAllBackups: false, balanceFactor: 0)
        }
        #expect(throws: AnyBalancer.Unsupported.self) {
            _ = try AnyBalancer.make(.urlParameter(name: "u", arguments: ["bogus"]), hashType: HashType(), weights: weights, backup: backup, useAllBackups: false, balanceFactor: 0)
        }
    }
}
