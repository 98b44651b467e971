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

    /// `show table`/`clear table` filters: every one must hold; errors in HAProxy's words.
    @Test func dataFiltersAndKeys() throws {
        let config = try StickTableConfig.parse(["type", "integer", "size", "10", "store", "gpc0,http_req_rate(10s),server_id"], at: SourceLocation(file: "t", line: 1))
        let table = StickTable(name: "t", config: config)
        for (n, hits) in [(1, 0), (2, 1), (3, 2)] {
            let key = try #require(table.key(parsing: String(n)))
            table.apply([.httpRequest] + Array(repeating: .incrementGPC(0), count: hits), to: key, now: 0)
        }
        table.store(server: 2, for: try #require(table.key(parsing: "3")), now: 0)
        func keys(_ words: String) throws(StickTable.FilterError) -> [String] {
            let filters = try table.dataFilters(words.split(separator: " ").map(String.init)[...], firstWord: 4)
            return table.dump(now: 10, filters: filters).map { String($0.split(separator: " ")[1]) }
        }
        #expect(try keys("data.gpc0 gt 0") == ["key=2", "key=3"])
        #expect(try keys("data.gpc0 ge 1 data.gpc0 lt 2") == ["key=2"])
        #expect(try keys("data.http_req_rate eq 1") == ["key=1", "key=2", "key=3"])
        #expect(try keys("data.server_id eq 2") == ["key=3"])
        #expect(table.dump(now: 10).last?.contains(" server_id=2 gpc0=2 ") == true, "the stored server once, in HAProxy's place")
        #expect(table.dump(now: 10, key: table.key(parsing: "2")).count == 1)
        #expect(table.key(parsing: "x1") == nil && table.key(parsing: "-1") == nil && table.key(parsing: "7x") == table.key(parsing: "7"))
        let errors = [
            ("data.conn_cnt gt 0", "Filter entry #1: Data type not stored in this table"),
            ("data.gpc0 gt 0 data.bogus eq 1", "Filter entry #2: Unknown data type"),
            ("data.gpc0 is 0", "Filter entry #1: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\""),
            ("data.gpc0 eq 0x1", "Filter entry #1: Require a valid integer value to compare against"),
            ("data.gpc0 eq 1 data.gpc0 eq 1 data.gpc0 eq 1 data.gpc0 eq 1 data.gpc0", "Detected extra data in filter, 16th word of input, after '1'"),
        ]
        for (words, message) in errors {
            do throws(StickTable.FilterError) {
                _ = try keys(words)
                Issue.record("\(words): accepted")
            } catch {
                #expect(error.message == message)
            }
        }
        table.clear(where: try table.dataFilters(["data.gpc0", "le", "1"], firstWord: 4), now: 10)
        #expect(table.dump(now: 10).count == 1)
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
