import HAProxyConfig
@testable import FulcrumCore

/// Compiles configuration text with a fake outside world: every file named in `files`
/// exists, users `haproxy`/`root` exist, only `localhost`-like names resolve.
func compile(_ text: String, files: [String: String] = [:], env: [String: String] = [:]) -> (FulcrumConfiguration, DiagnosticList, [SourceLocation: [[String]]]) {
    let context = FulcrumVersion.conditionContext(environment: { env[$0] })
    var reader = ConfigReader(context: context)
    reader.read(file: "test.cfg", contents: Array(text.utf8))
    let environment = CompileEnvironment(
        readFile: { path in files[path].map { Array($0.utf8) } },
        userID: { ["haproxy": 100, "root": 0][$0] },
        groupID: { ["haproxy": 100, "root": 0][$0] },
        resolves: { $0 == "localhost" || $0.hasSuffix(".internal") }
    )
    var (config, diagnostics, rewrites) = ConfigCompiler.compile(reader.document, environment: environment)
    var all = reader.diagnostics
    all.append(contentsOf: diagnostics)
    diagnostics = all
    return (config, diagnostics, rewrites)
}

let timeouts = "    timeout client 5s\n    timeout server 5s\n    timeout connect 5s\n"
