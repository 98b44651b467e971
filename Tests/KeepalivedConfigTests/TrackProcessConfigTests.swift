import Testing
@testable import KeepalivedConfig

/// `vrrp_track_process` as keepalived reads it (vrrp_parser.c and keepalived.conf(5)).
@Suite struct TrackProcessConfigTests {
    func parse(_ block: String) -> (TrackProcessDefinition?, [String]) {
        let (config, diags) = KeepalivedConfigParser.parse(text: "vrrp_track_process p {\n\(block)\n}\n", file: "k.conf")
        return (config.trackProcesses["p"], diags.map(\.description))
    }

    @Test func byNameWithQuorumWeightAndDelays() throws {
        let (d, diags) = parse(" process haproxy\n quorum 2\n quorum_max 4\n weight -30 reverse\n delay 0.5\n fork_delay 2")
        let def = try #require(d)
        #expect(diags.isEmpty, "\(diags)")
        #expect(def.process == "haproxy" && def.parameters == nil && def.parameterMatch == nil && !def.fullCommand)
        #expect(def.quorum == 2 && def.quorumMax == 4)
        #expect(def.weight == TrackWeight(-30, reverse: true))
        // `delay` sets both; a later `fork_delay` overrides one.
        #expect(def.terminateDelaySeconds == 0.5 && def.forkDelaySeconds == 2)
        #expect(!def.hasQuorum(1) && def.hasQuorum(2) && def.hasQuorum(4) && !def.hasQuorum(5))
        #expect(def.matches(comm: "haproxy", arguments: nil))
        #expect(!def.matches(comm: "haproxy2", arguments: ["haproxy"]))
    }

    /// Words after the name are parameters: they imply full_command and an exact match.
    @Test func parametersMatchTheCommandLine() throws {
        let (d, diags) = parse(" process \"/usr/bin/my app\" -f \"a b\"")
        let def = try #require(d)
        #expect(diags.isEmpty, "\(diags)")
        #expect(def.process == "/usr/bin/my app" && def.parameters == ["-f", "a b"])
        #expect(def.fullCommand && def.parameterMatch == .exact)
        #expect(def.matches(comm: nil, arguments: ["/usr/bin/my app", "-f", "a b"]))
        #expect(!def.matches(comm: nil, arguments: ["/usr/bin/my app", "-f", "a b", "-d"]))
        #expect(!def.matches(comm: nil, arguments: ["/usr/bin/my app", "-f"]))
        #expect(!def.matches(comm: "my app", arguments: nil))
    }

    @Test func paramMatchKinds() throws {
        let partial = try #require(parse(" param_match partial\n process /bin/x -a b").0)
        #expect(partial.parameterMatch == .partial)
        #expect(partial.matches(comm: nil, arguments: ["/bin/x", "-a", "b", "c"]))
        #expect(!partial.matches(comm: nil, arguments: ["/bin/x", "-a", "bc"]))
        let initial = try #require(parse(" process /bin/x -a b\n param_match initial").0)
        #expect(initial.parameterMatch == .initial)
        #expect(initial.matches(comm: nil, arguments: ["/bin/x", "-a", "bc", "d"]))
        #expect(!initial.matches(comm: nil, arguments: ["/bin/x", "-ab", "b"]))
        // param_match without parameters: the command must have none.
        let none = try #require(parse(" process /bin/x\n param_match").0)
        #expect(none.fullCommand && none.parameterMatch == .exact && none.parameters == nil)
        #expect(none.matches(comm: nil, arguments: ["/bin/x"]))
        #expect(!none.matches(comm: nil, arguments: ["/bin/x", "-v"]))
        // full_command alone: argv[0], whatever follows.
        let full = try #require(parse(" process /bin/x\n full_command").0)
        #expect(full.fullCommand && full.parameterMatch == nil)
        #expect(full.matches(comm: nil, arguments: ["/bin/x", "-v"]))
        #expect(!full.matches(comm: "x", arguments: ["x"]))
        #expect(!full.matches(comm: nil, arguments: []))
        #expect(parse(" process x\n param_match some").1 == ["k.conf:3: error: 'param_match' takes nothing, 'initial' or 'partial', not 'some'"])
    }

    @Test func quorumMaxZeroMeansNoneMayRun() throws {
        let def = try #require(parse(" process x\n quorum_max 0").0)
        #expect(def.quorum == 0 && def.quorumMax == 0)
        #expect(def.hasQuorum(0) && !def.hasQuorum(1))
        #expect(parse(" process x\n quorum 3\n quorum_max 2").1 == ["k.conf:1: error: vrrp_track_process p: quorum_max 2 is less than quorum 3"])
        #expect(parse(" process x\n quorum 0").1 == ["k.conf:3: error: 'quorum' must be an integer in 1..65535, not '0'"])
    }

    @Test func namesThatCannotMatchAreWarned() {
        #expect(parse(" process /usr/sbin/haproxy").1 == ["k.conf:1: warning: vrrp_track_process p: '/usr/sbin/haproxy' is matched against process names, which have no directory and at most 15 characters, so it never matches; add 'full_command' to match the command line"])
        #expect(parse(" process a-very-long-daemon-name").1.count == 1)
        #expect(parse(" process a-very-long-daemon-name\n full_command").1.isEmpty)
        #expect(parse(" quorum 1").1 == ["k.conf:1: error: vrrp_track_process p has no 'process'"])
        #expect(parse(" process x\n delay 4000").1 == ["k.conf:3: error: 'delay' must be a number of seconds in 0.0..3600.0, not '4000'"])
    }
}
