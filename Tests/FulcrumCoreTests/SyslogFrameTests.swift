#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import FulcrumCore

@Suite struct SyslogFrameTests {
    func frame(_ format: String?, length: Int = 1024, hostname: String? = "lb1") -> String {
        // 2026-11-05 09:07:03 in local time, whatever the zone.
        var broken = tm()
        broken.tm_year = 126; broken.tm_mon = 10; broken.tm_mday = 5; broken.tm_hour = 9; broken.tm_min = 7; broken.tm_sec = 3
        broken.tm_isdst = -1
        let seconds = Int(mktime(&broken))
        let bytes = SyslogFrame.frame(Array("hello".utf8), format: format, facility: 16, level: 6, tag: "fulcrum", pid: 42, hostname: hostname,
                                      seconds: seconds, microseconds: 5, maxLength: length)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The lines HAProxy 2.6 sent to a UDP listener for the same message, one target per format.
    @Test func formatsAsHAProxySendsThem() {
        #expect(frame("local") == "<134>Nov  5 09:07:03 fulcrum[42]: hello\n", "day padded with a space, no host name")
        #expect(frame(nil, hostname: nil) == "<134>Nov  5 09:07:03 fulcrum[42]: hello\n", "the default is local")
        #expect(frame(nil) == "<134>Nov  5 09:07:03 lb1 fulcrum[42]: hello\n", "log-send-hostname makes it rfc3164")
        #expect(frame("rfc3164", hostname: nil) == "<134>Nov  5 09:07:03 localhost fulcrum[42]: hello\n")
        #expect(frame("raw") == "hello\n")
        #expect(frame("priority") == "<134>hello\n")
        #expect(frame("short") == "<6>hello\n", "the level alone")
        #expect(frame("timed").hasPrefix("<6>2026-11-05T09:07:03.000005") && frame("timed").hasSuffix(" hello\n"))
        #expect(frame("iso").hasPrefix("2026-11-05T09:07:03.000005") && frame("iso").hasSuffix(" hello\n"))
        #expect(frame("rfc5424").hasPrefix("<134>1 2026-11-05T09:07:03.000005"))
        #expect(frame("rfc5424").hasSuffix(" lb1 fulcrum 42 - - hello\n"))
        #expect(frame("rfc5424", hostname: nil).hasSuffix(" - fulcrum 42 - - hello\n"))
        #expect(frame("local", length: 20) == "<134>Nov  5 09:07:03\n", "cut at len, the newline on top")
    }
}
