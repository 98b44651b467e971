import Testing
import Foundation
@testable import VRRPDaemon

@Suite struct TrackSourcesTests {
    @Test func trackFileNumbers() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-track-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(TrackSources.readNumber(path) == nil)
        try "-12\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(TrackSources.readNumber(path) == -12)
        try "".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(TrackSources.readNumber(path) == 0)
    }

    @Test func statLines() {
        #expect(TrackSources.parseStat("1234 (haproxy) S 1 1234 1234 0 -1") ?? ("", " ") == ("haproxy", "S"))
        #expect(TrackSources.parseStat("99 (a (b) c) Z 1 2") ?? ("", " ") == ("a (b) c", "Z"))
        #expect(TrackSources.parseStat("garbage") == nil)
    }

    @Test func processesCountedByName() {
        // The test runner itself is running.
        let me = ProcessInfo.processInfo.processName
        let counts = TrackSources.processCounts(names: [String(me.prefix(15)), "no-such-process-x"])
        #expect(counts["no-such-process-x"] == nil)
        #expect(counts.values.reduce(0, +) >= 1)
    }
}
