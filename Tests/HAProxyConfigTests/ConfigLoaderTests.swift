import Testing
import Foundation
@testable import HAProxyConfig

@Suite struct ConfigLoaderTests {
    let context = ConditionContext(environment: { _ in nil }, features: [], version: "2.6")

    @Test func directoryLoadsCfgFilesInLexicalOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "backend b2\n".write(to: dir.appendingPathComponent("20-b.cfg"), atomically: true, encoding: .utf8)
        try "global\n".write(to: dir.appendingPathComponent("10-a.cfg"), atomically: true, encoding: .utf8)
        try "frontend ignored\n".write(to: dir.appendingPathComponent("30-c.conf"), atomically: true, encoding: .utf8)
        try "backend b1\n".write(to: dir.appendingPathComponent("15-B.cfg"), atomically: true, encoding: .utf8)
        let (doc, diags) = ConfigLoader(context: context).load(paths: [dir.path])
        #expect(!diags.hasAlerts)
        #expect(doc.sections.map(\.displayName) == ["global", "b1", "b2"])
        #expect(doc.files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["10-a.cfg", "15-B.cfg", "20-b.cfg"])
    }

    @Test func missingFileIsAnAlert() {
        let (_, diags) = ConfigLoader(context: context).load(paths: ["/nonexistent/haproxy.cfg"])
        #expect(diags.alerts.first?.message.contains("Could not open configuration file /nonexistent/haproxy.cfg") == true)
    }
}
