import Testing
@testable import HAProxyConfig

@Suite struct ConfigReaderTests {
    static let context = ConditionContext(environment: { ["WITH_SSL": "yes"][$0] }, features: ["THREAD"], version: "2.6")

    func read(_ text: String, file: String = "t.cfg") -> ConfigReader {
        var reader = ConfigReader(context: Self.context)
        reader.read(file: file, contents: Array(text.utf8))
        return reader
    }

    @Test func groupsLinesUnderSections() {
        let r = read("""
        global
            daemon
        # comment
        defaults web from base
        frontend fe from web
            bind :80
        backend be
            server s 127.0.0.1:80
        """)
        let s = r.document.sections
        #expect(s.map(\.kind) == [.global, .defaults, .frontend, .backend])
        #expect(s[1].name == "web" && s[1].fromDefaults == "base")
        #expect(s[2].name == "fe" && s[2].fromDefaults == "web")
        #expect(s[2].lines.map(\.words) == [["bind", ":80"]])
        #expect(s[3].lines[0].location == SourceLocation(file: "t.cfg", line: 8))
        #expect(!r.diagnostics.hasAlerts)
    }

    @Test func keywordBeforeAnySectionIsAnAlertAtItsLine() {
        let r = read("\n  daemon\nglobal\n")
        #expect(r.diagnostics.alerts.first?.location?.line == 2)
        #expect(r.diagnostics.alerts.first?.message.contains("out of section") == true)
    }

    @Test func sectionNamesAreChecked() {
        #expect(read("frontend\n").diagnostics.alerts.first?.message.contains("expects <name>") == true)
        #expect(read("backend a/b\n").diagnostics.alerts.first?.message.contains("not permitted") == true)
        #expect(read("backend a b\n").diagnostics.alerts.first?.message.contains("unexpected argument") == true)
        #expect(read("defaults\n").diagnostics.items.isEmpty)
        let named = read("frontend from\nbackend from\n")
        #expect(!named.diagnostics.hasAlerts, "a proxy may be named 'from'")
        #expect(named.document.sections.map(\.name) == ["from", "from"])
    }

    @Test func unsupportedSectionsAreRefusedNotIgnored() {
        let r = read("global\nresolvers dns\n  nameserver ns1 127.0.0.1:53\nbackend be\n")
        #expect(r.diagnostics.alerts.count == 1)
        #expect(r.diagnostics.alerts[0].location?.line == 2)
        #expect(r.diagnostics.alerts[0].message.contains("not supported yet"))
    }

    @Test func conditionalBlocksSelectLines() {
        let r = read("""
        global
        .if streq("$WITH_SSL",yes) && feature(THREAD)
            nbthread 2
        .elif 1
            nbthread 3
        .else
            nbthread 4
        .endif
        .if defined(NOPE)
            "unterminated
            .alert "never"
        .endif
        .warning "careful"
        """)
        #expect(r.document.sections[0].lines.map(\.words) == [["nbthread", "2"]])
        #expect(!r.diagnostics.hasAlerts)
        #expect(r.diagnostics.warnings.map(\.message) == ["careful"])
        #expect(r.diagnostics.warnings[0].location?.line == 13)
    }

    @Test func alertDirectiveAndBlockErrorsCarryTheirLine() {
        #expect(read("global\n.alert \"SSL is mandatory\"\n").diagnostics.alerts.first?.location?.line == 2)
        #expect(read("global\n.endif\n").diagnostics.alerts.first?.location?.line == 2)
        let open = read("global\n\n.if 1\n  daemon\n")
        #expect(open.diagnostics.alerts.first?.location?.line == 3)
        #expect(open.diagnostics.alerts.first?.message.contains("not terminated") == true)
        #expect(read("global\n.if bogus(1)\n.endif\n").diagnostics.alerts.first?.location?.line == 2)
        #expect(read("global\n.frobnicate\n").diagnostics.alerts.first?.message.contains("unknown directive") == true)
    }

    @Test func tokenizerErrorsShowTheLineAndACaret() {
        let r = read("global\n  log \"unterminated\n")
        let alert = r.diagnostics.alerts.first
        #expect(alert?.location?.line == 2)
        #expect(alert?.message == "unmatched quote at position 7:\n    log \"unterminated\n        ^")
    }

    @Test func crlfLineEndings() {
        let r = read("global\r\n    daemon\r\n")
        #expect(r.document.sections[0].lines[0].words == ["daemon"])
    }

    @Test func sectionsDoNotContinueAcrossFiles() {
        var reader = ConfigReader(context: Self.context)
        reader.read(file: "a.cfg", contents: Array("global\n  daemon\n".utf8))
        reader.read(file: "b.cfg", contents: Array("  nbthread 2\n".utf8))
        #expect(reader.diagnostics.alerts.first?.location == SourceLocation(file: "b.cfg", line: 1))
    }
}
