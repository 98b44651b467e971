import Foundation
import Testing

/// Every file of `Tests/Fixtures/invalid` must be refused by `fulcrum -c` with an alert
/// at the line its `# expect:` header names, containing the expected words. Where HAProxy
/// 2.6 also rejects the file (its verdict is recorded in the `# haproxy:` header), Fulcrum
/// must name the same line, unless the case is listed below with the reason it differs.
@Suite struct InvalidConfigurationCorpusTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var file: URL
        var expectedLine: Int
        var expectedText: String
        var haproxyLine: Int?
        var testDescription: String { key }
        var key: String { file.deletingLastPathComponent().lastPathComponent + "/" + file.lastPathComponent }
    }

    /// Cases where Fulcrum deliberately names another line than HAProxy.
    static let knownDifferences: [String: String] = [
        "invalid/48-if-without-endif.cfg": "Fulcrum names the '.if' that is left open; HAProxy names the end of the file",
        "broken/62-if-without-endif.cfg": "Fulcrum names the '.if' that is left open; HAProxy names the end of the file",
        "broken/21-http-frontend-tcp-backend.cfg": "Fulcrum names the default_backend line; HAProxy names the frontend and the backend sections",
    ]

    /// Two corpora written independently: `invalid/` (with its generator) and `broken/`.
    static let directories = ["invalid", "broken"].map { FulcrumProcess.repositoryRoot.appendingPathComponent("Tests/Fixtures/\($0)") }

    static func cases() -> [Case] {
        let files = directories.flatMap { (try? FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil)) ?? [] }
        return files.filter { $0.pathExtension == "cfg" }.sorted { $0.path < $1.path }.compactMap { url in
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.count > 2, lines[0].hasPrefix("# expect: "), lines[1].hasPrefix("# haproxy: ") else { return nil }
            let expect = lines[0].dropFirst("# expect: ".count).split(separator: "|", maxSplits: 1)
            let haproxy = lines[1].dropFirst("# haproxy: ".count).split(separator: "|", maxSplits: 1)
            guard expect.count == 2, let line = Int(expect[0].trimmingCharacters(in: .whitespaces)) else { return nil }
            return Case(file: url, expectedLine: line, expectedText: expect[1].trimmingCharacters(in: .whitespaces),
                        haproxyLine: Int(haproxy.first?.trimmingCharacters(in: .whitespaces) ?? ""))
        }
    }

    @Test func corpusIsLargeEnough() {
        #expect(Self.cases().count >= 100)
    }

    @Test(arguments: cases())
    func refusedAtTheExpectedLine(_ c: Case) throws {
        let run = try FulcrumProcess.run(["-c", "-f", c.file.path])
        #expect(run.status == 1, "must not be accepted")
        let marker = "[\(c.file.path):\(c.expectedLine)] : "
        let alerts = run.stderr.split(separator: "\n").filter { $0.hasPrefix("[ALERT]") }
        let atLine = alerts.filter { $0.contains(marker) }
        #expect(!atLine.isEmpty, "no alert at line \(c.expectedLine); got:\n\(run.stderr)")
        #expect(atLine.contains { $0.lowercased().contains(c.expectedText.lowercased()) }, "alert at line \(c.expectedLine) lacks '\(c.expectedText)':\n\(run.stderr)")
        if let haproxyLine = c.haproxyLine, haproxyLine != c.expectedLine {
            #expect(Self.knownDifferences[c.key] != nil, "HAProxy names line \(haproxyLine), Fulcrum \(c.expectedLine): record why")
        }
        #expect(run.stderr.hasSuffix("Fatal errors found in configuration.\n"), "a refusal ends with HAProxy's closing line")
    }
}
