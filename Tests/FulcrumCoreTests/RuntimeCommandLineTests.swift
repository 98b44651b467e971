import Testing
@testable import FulcrumCore

@Suite struct RuntimeCommandLineTests {
    @Test func commandsWordsAndEscapes() {
        #expect(RuntimeCommandLine.split("show info; show stat\n") == [["show", "info"], ["show", "stat"]])
        #expect(RuntimeCommandLine.split("  set   server b/s state\tmaint ;;") == [["set", "server", "b/s", "state", "maint"]])
        #expect(RuntimeCommandLine.split("set weight b/s\\;x 10") == [["set", "weight", "b/s;x", "10"]])
        #expect(RuntimeCommandLine.split("") == [])
        #expect(RuntimeCommandLine.serverPath("web/s1")! == ("web", "s1"))
        #expect(RuntimeCommandLine.serverPath("web") == nil && RuntimeCommandLine.serverPath("/s") == nil)
    }
}
