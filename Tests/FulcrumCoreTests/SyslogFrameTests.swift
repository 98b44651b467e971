#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FulcrumCore

@Suite struct SyslogFrameTests {
    func frame(_ format: String, length: Int = 1024) -> String {
        // 2026-11-05 09:07:03 in local time, whatever the zone.
        var broken = tm()
        broken.tm_year = 126; broken.tm_mon = 10; broken.tm_mday = 5; broken.tm_hour = 9; broken.tm_min = 7; broken.tm_sec = 3
        broken.tm_isdst = -1
        let seconds = Int(mktime(&broken))
        let bytes = SyslogFrame.frame(Array("hello".utf8), format: format, facility: 16, level: 6, tag: "fulcrum", pid: 42, hostname: "lb1",
                                      seconds: seconds, microseconds: 5, maxLength: length)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func formatsAsHAProxySendsThem() {
        #expect(frame("rfc3164") == "<134>Nov  5 09:07:03 fulcrum[42]: hello\n", "day padded with a space, no host name")
        #expect(frame("raw") == "hello\n")
        #expect(frame("short") == "<134>hello\n")
        #expect(frame("rfc5424").hasPrefix("<134>1 2026-11-05T09:07:03.000005"))
        #expect(frame("rfc5424").hasSuffix(" lb1 fulcrum 42 - - hello\n"))
        #expect(frame("rfc3164", length: 20) == "<134>Nov  5 09:07:0\n", "cut at len, newline included")
    }
}
