import Testing
@testable import FulcrumCore

/// The literal a regular expression's every match must contain, used to skip the
/// expression on ASCII subjects that lack it: read conservatively, and never changing
/// what matches.
@Suite struct RegexPrefilterTests {
    func literal(_ pattern: String) -> String {
        let (bytes, anchored) = CompiledRegex.requiredLiteral(pattern)
        return (anchored ? "^" : "") + String(decoding: bytes, as: UTF8.self)
    }

    @Test func requiredLiteralsAreReadConservatively() {
        #expect(literal("^/v1/[a-z]+/[0-9]+$") == "^/v1/")
        #expect(literal("^/api/") == "^/api/")
        #expect(literal("\\.php$") == ".php")
        #expect(literal("/admin\\-panel") == "/admin-panel")
        // A character made optional or repeated is left out; `+` keeps one and ends the run.
        #expect(literal("^ab?cdef") == "cdef")
        #expect(literal("^abc*d") == "^ab")
        #expect(literal("^ab+cd") == "^ab")
        #expect(literal("x{2}yz") == "yz")
        #expect(literal("x{2}") == "")
        #expect(literal("^a{2,3}b") == "b")
        // Groups and classes are skipped, whatever they hold (alternatives included).
        #expect(literal("^(a|b)/static/") == "/static/")
        #expect(literal("^(a(b)c)d") == "d")
        #expect(literal("^[/]?img/") == "img/")
        #expect(literal("^[]x]+/z") == "/z")
        #expect(literal("[[:alpha:]x]yz") == "")
        #expect(literal("(a[b)]c)de") == "de")
        // Escapes that are classes or anchors end a run.
        #expect(literal("^\\d+/items") == "/items")
        #expect(literal("\\bword\\b") == "word")
        #expect(literal("^/x\\x41bc") == "")
        #expect(literal("(?<n>a)\\k<n>bc") == "")
        // Alternations, inline options and quoting: nothing assumed.
        #expect(literal("^/a|/b") == "")
        #expect(literal("(?i)^/api") == "")
        #expect(literal("\\Q/x\\E") == "")
        #expect(literal("^[a-z]+$") == "")
        #expect(literal(".*") == "")
    }

    @Test func prefilterNeverChangesWhatMatches() throws {
        let patterns = ["^/v1/[a-z]+/[0-9]+$", "\\.php$", "^/api/", "ab+c", "^(x|y)/static/", "K", "^caf", "é$", "\\d{3}-\\d{4}", "^ab?c"]
        let subjects = ["/v1/item/42", "/v1/Item/42", "/v2/item/42", "/index.php", "/index.php5", "/api/users", "/apis", "xabbbc", "ac",
                        "x/static/a.css", "z/static/", "\u{212A}", "k", "K", "café", "cafe\u{301}", "555-1234", "abc", "ac", "", "/"]
        for pattern in patterns {
            let regex = try CompiledRegex(pattern)
            let unfiltered = try Regex(pattern)
            for subject in subjects {
                let expected = (try? unfiltered.firstMatch(in: subject)) != nil
                #expect(regex.matches(Array(subject.utf8)) == expected, "\(pattern) on \(subject)")
                #expect(regex.matches(Array(subject.utf8)[...]) == expected, "\(pattern) on \(subject) (slice)")
            }
        }
        // Case-insensitive expressions are never filtered.
        let insensitive = try CompiledRegex("^/API/", ignoreCase: true)
        #expect(insensitive.literal.isEmpty && insensitive.matches(Array("/api/x".utf8)))
    }
}
