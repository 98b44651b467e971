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

    @Test func processesFromProc() throws {
        // The test runner itself is running, under its name cut to 15 bytes.
        let me = try #require(TrackSources.processes(arguments: true).first { $0.pid == getpid() })
        #expect(me.comm == String(decoding: ProcessInfo.processInfo.processName.utf8.prefix(15), as: UTF8.self))
        #expect(me.arguments == CommandLine.arguments)
        #expect(TrackSources.process(getpid(), arguments: false)?.arguments == nil)
        #expect(TrackSources.process(getpid(), arguments: false)?.comm == me.comm)
        #expect(TrackSources.processes(arguments: false).count > 1)
    }

    @Test func commandLineWords() {
        #expect(TrackSources.splitCommandLine(Array("/bin/sh\0-c\0\0x y\0".utf8)) == ["/bin/sh", "-c", "", "x y"])
        // A process that rewrote its title without the final NUL.
        #expect(TrackSources.splitCommandLine(Array("nginx: master".utf8)) == ["nginx: master"])
        #expect(TrackSources.splitCommandLine([UInt8]()) == [])
    }
}
