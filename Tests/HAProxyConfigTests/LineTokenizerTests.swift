import Testing
@testable import HAProxyConfig

/// Every quoting and escaping rule of the configuration manual, section 2.2 and 2.3.
@Suite struct LineTokenizerTests {
    let env: [String: String] = ["HOST": "10.0.0.1", "EMPTY": "", "LIST": "a b  c", "PORT": "8080"]

    func words(_ line: String, pseudo: [String: String] = [:]) -> [String]? {
        let env = self.env
        let tokenizer = LineTokenizer(environment: { env[$0] }, pseudoVariables: pseudo)
        if case .success(let w) = tokenizer.tokenize(line) { return w }
        return nil
    }

    func failure(_ line: String) -> LineTokenizer.Failure? {
        let tokenizer = LineTokenizer(environment: { _ in nil })
        if case .failure(let f) = tokenizer.tokenize(line) { return f }
        return nil
    }

    @Test func splitsOnSpacesAndTabs() {
        #expect(words("  server  s1\t127.0.0.1:80 \t check ") == ["server", "s1", "127.0.0.1:80", "check"])
        #expect(words("") == [])
        #expect(words("   \t ") == [])
    }

    @Test func hashStartsACommentEvenInsideAWord() {
        #expect(words("global#this is the global section") == ["global"])
        #expect(words("mode http   # or tcp") == ["mode", "http"])
        #expect(words("log-tag a#b c") == ["log-tag", "a"])
        #expect(words("# only a comment") == [])
    }

    @Test func backslashEscapesOutsideQuotes() {
        #expect(words(#"reqadd X-Forwarded-Proto:\ http"#) == ["reqadd", "X-Forwarded-Proto: http"])
        #expect(words(##"a\#b"##) == ["a#b"])
        #expect(words(#"a\\b"#) == [#"a\b"#])
        #expect(words(#"\'x\'"#) == ["'x'"])
        #expect(words(#"\"x\""#) == ["\"x\""])
        // The binary (2.6), not the manual's table, is the reference for these two:
        // outside double quotes `\$` keeps its backslash and `\<TAB>` does not protect the tab.
        #expect(words(#"a\$b"#) == [#"a\$b"#])
        #expect(words("x\\\ty") == [#"x\"#, "y"])
        #expect(words("\"x\\\ty\"") == ["x\ty"])
    }

    @Test func controlCharacterEscapes() {
        #expect(words(#"x\ny"#) == ["x\ny"])
        #expect(words(#"x\ry"#) == ["x\ry"])
        #expect(words(#"x\ty"#) == ["x\ty"])
        #expect(words(#"\x41\x62\x7e"#) == ["Ab~"])
        #expect(words(#""\x20""#) == [" "])
    }

    @Test func invalidHexEscapeIsAnError() {
        #expect(failure(#"abc \x4"#)?.message.contains("hexadecimal") == true)
        #expect(failure(#"abc \xZZ"#) != nil)
    }

    @Test func unknownEscapesAreKeptForRegularExpressions() {
        #expect(words(#"^Host:\ www\.example\.com \d+"#) == [#"^Host: www\.example\.com"#, #"\d+"#])
    }

    @Test func doubleQuotesProtectSpacesHashAndSingleQuotes() {
        #expect(words(#"log-format "%{+Q}o %t # not a comment""#) == ["log-format", "%{+Q}o %t # not a comment"])
        #expect(words(#""it's""#) == ["it's"])
        #expect(words(#""a\"b""#) == ["a\"b"])
        #expect(words(#""a\\b""#) == [#"a\b"#])
        #expect(words(#""a\'b""#) == ["a'b"])
    }

    @Test func singleQuotesInterpretNothing() {
        #expect(words(#"'%{+Q}o %t $HOST \n #'"#) == [#"%{+Q}o %t $HOST \n #"#])
        #expect(words(#"'a"b'"#) == ["a\"b"])
        #expect(words(#"'\'"#) == [#"\"#])
    }

    @Test func quotedPiecesConcatenateIntoOneWord() {
        // The manual's example: these five spellings are the same word.
        let expected = ["log-format", "%{+Q}o %t %s %{-Q}r"]
        #expect(words(#"log-format %{+Q}o\ %t\ %s\ %{-Q}r"#) == expected)
        #expect(words(#"log-format "%{+Q}o %t %s %{-Q}r""#) == expected)
        #expect(words(#"log-format '%{+Q}o %t %s %{-Q}r'"#) == expected)
        #expect(words(#"log-format "%{+Q}o %t"' %s %{-Q}r'"#) == expected)
        #expect(words(#"log-format "%{+Q}o %t"' %s'\ %{-Q}r"#) == expected)
    }

    @Test func emptyQuotesAreAnArgument() {
        #expect(words(#"log-tag "" x"#) == ["log-tag", "", "x"])
        #expect(words("a '' b") == ["a", "", "b"])
    }

    @Test func unmatchedQuotesAreErrorsWithTheirPosition() {
        #expect(failure(#"log "unterminated"#) == LineTokenizer.Failure(position: 4, message: "unmatched quote at position 5"))
        #expect(failure("log 'x")?.position == 4)
    }

    @Test func environmentVariablesOnlyInsideDoubleQuotes() {
        #expect(words(#"bind "$HOST:$PORT""#) == ["bind", "10.0.0.1:8080"])
        #expect(words(#"bind "${HOST}:${PORT}""#) == ["bind", "10.0.0.1:8080"])
        #expect(words("bind $HOST:${PORT}") == ["bind", "$HOST:${PORT}"])
        #expect(words("bind '$HOST'") == ["bind", "$HOST"])
        #expect(words(#""\$HOST""#) == ["$HOST"])
    }

    @Test func defaultValuesReplaceOnlyUnsetVariables() {
        #expect(words(#""${UNSET-127.0.0.1}:514""#) == ["127.0.0.1:514"])
        #expect(words(#""${EMPTY-fallback}x""#) == ["x"])
        #expect(words(#""${HOST-fallback}""#) == ["10.0.0.1"])
        #expect(words(#""$UNSET""#) == [""])
    }

    @Test func listExpansionMakesSeparateWords() {
        #expect(words(#"x "${LIST[*]}" y"#) == ["x", "a", "b", "c", "y"])
    }

    @Test func pseudoVariables() {
        #expect(words(#"server "s${.LINE}" "${.FILE}" "${.SECTION}""#, pseudo: [".LINE": "12", ".FILE": "a.cfg", ".SECTION": "be"]) == ["server", "s12", "a.cfg", "be"])
    }

    @Test func unterminatedBraceIsAnError() {
        #expect(failure(#""${HOST""#) != nil)
    }

    @Test func badVariableNamesAreErrors() {
        #expect(failure(#""cost $5""#)?.message.contains("forbidden first char") == true)
        #expect(failure(#""$""#) != nil)
        #expect(failure(#""${.LINEX}""#)?.message.contains("unknown pseudo-variable") == true)
        #expect(words(#""$.LINE""#, pseudo: [".LINE": "7"]) == ["7"])
    }

    @Test func nulAndTrailingCarriageReturn() {
        #expect(failure("a\u{0}b") != nil)
        #expect(words("mode http\r") == ["mode", "http"])
    }
}
