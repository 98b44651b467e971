import Testing
import HAProxyConfig
@testable import FulcrumCore

/// Stick tables and their rate counters on a manual clock.
@Suite struct StickTableTests {
    @Test func ratesWeighThePreviousPeriod() {
        var f = FrequencyCounter()
        for t in stride(from: Int64(0), to: 1000, by: 100) { f.add(1, now: t, period: 1000) }
        #expect(f.read(now: 999, period: 1000) == 10)
        // Half-way through the next period, half of the previous one still counts.
        #expect(f.read(now: 1500, period: 1000) == 5)
        f.add(2, now: 1500, period: 1000)
        #expect(f.read(now: 1500, period: 1000) == 7)
        #expect(f.read(now: 2000, period: 1000) == 2)
        #expect(f.read(now: 3000, period: 1000) == 0)
    }

    @Test func tablesCountTrackAndExpire() throws {
        let config = try StickTableConfig.parse(["type", "ip", "size", "2", "expire", "10s", "store", "http_req_rate(10s),conn_cur,conn_cnt,gpc0"],
                                                at: SourceLocation(file: "t", line: 1))
        let table = StickTable(name: "fe", config: config)
        let a = try #require(table.key(.address([10, 0, 0, 1])))
        let b = try #require(table.key(.address([10, 0, 0, 2])))
        let c = try #require(table.key(.address([10, 0, 0, 3])))
        #expect(table.key(.address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 10, 0, 0, 1])) == a, "IPv4-mapped addresses share the IPv4 entry")
        #expect(table.apply([.trackBegin, .connection, .httpRequest], to: a, now: 0))
        #expect(table.apply([.httpRequest, .incrementGPC(0)], to: a, now: 100))
        #expect(table.value("http_req_rate", of: a, now: 200) == 2)
        #expect(table.value("conn_cur", of: a, now: 200) == 1)
        #expect(table.value("conn_cnt", of: a, now: 200) == 1)
        #expect(table.value("gpc0", of: a, now: 200) == 1)
        #expect(table.value("http_err_rate", of: a, now: 200) == nil, "not stored")
        #expect(table.value("conn_cur", of: b, now: 200) == 0, "no entry yet")
        #expect(table.apply([.httpRequest], to: b, now: 300))
        // Full: b (idle, oldest) makes room for c; a is in use and stays.
        #expect(table.apply([.httpRequest], to: c, now: 400))
        #expect(table.count(now: 400) == 2)
        #expect(table.value("http_req_rate", of: b, now: 400) == 0)
        table.apply([.trackEnd], to: a, now: 500)
        #expect(table.value("conn_cur", of: a, now: 500) == 0)
        // Idle entries expire 10 s after their last update.
        #expect(table.count(now: 10_450) == 1)
        #expect(table.count(now: 10_600) == 0)
        #expect(table.dump(now: 600).first?.hasPrefix("0x1: key=10.0.0.1 use=0 exp=9900 gpc0=1 conn_cnt=1 conn_cur=0 http_req_rate(10000)=2") == true)
    }

    @Test func expiredEntriesStartAfresh() throws {
        let config = try StickTableConfig.parse(["type", "integer", "size", "10", "expire", "2s", "store", "gpc0"], at: SourceLocation(file: "t", line: 1))
        let table = StickTable(name: "t", config: config)
        let key = try #require(table.key(.integer(7)))
        table.apply([.incrementGPC(0)], to: key, now: 0)
        table.apply([.incrementGPC(0)], to: key, now: 1000)
        #expect(table.value("gpc0", of: key, now: 1500) == 2)
        // Expired but not purged yet: the next update starts from zero.
        table.apply([.incrementGPC(0)], to: key, now: 3500)
        #expect(table.value("gpc0", of: key, now: 3500) == 1)
    }

    @Test func nopurgeRefusesNewKeysWhenFull() throws {
        let config = try StickTableConfig.parse(["type", "integer", "size", "1", "nopurge", "store", "gpc0"], at: SourceLocation(file: "t", line: 1))
        let table = StickTable(name: "t", config: config)
        #expect(table.apply([.incrementGPC(0)], to: table.key(.integer(1))!, now: 0))
        #expect(!table.apply([.incrementGPC(0)], to: table.key(.integer(2))!, now: 10))
    }

    @Test func badTablesAreRefused() {
        let at = SourceLocation(file: "t", line: 1)
        #expect(throws: ConfigError.self) { try StickTableConfig.parse(["type", "ipv5", "size", "1k"], at: at) }
        #expect(throws: ConfigError.self) { try StickTableConfig.parse(["type", "ip"], at: at) }
        #expect(throws: ConfigError.self) { try StickTableConfig.parse(["type", "ip", "size", "1k", "store", "http_req_rate"], at: at) }
        #expect(throws: ConfigError.self) { try StickTableConfig.parse(["type", "ip", "size", "1k", "store", "nope"], at: at) }
        #expect(throws: ConfigError.self) { try StickTableConfig.parse(["type", "ip", "size", "1k", "bogus"], at: at) }
    }
}
