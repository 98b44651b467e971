import FulcrumCore
import HAProxyConfig

/// Loads, compiles and validates the configuration files, printing diagnostics as
/// HAProxy does. Shared by `-c`, `--print-modern-config` and (later) start-up.
struct ConfigurationCheck {
    let options: CommandLineOptions
    let pid: Int32

    struct Outcome {
        var configuration: FulcrumConfiguration
        var document: ConfigDocument
        var diagnostics: DiagnosticList
        var rewrites: [SourceLocation: [[String]]]
    }

    func run() -> Outcome {
        let paths = options.configPaths
        let peer = options.localPeer ?? Process.hostname
        let environment: @Sendable (String) -> String? = { name in
            switch name {
            case "HAPROXY_CFGFILES": return paths.joined(separator: ";")
            case "HAPROXY_LOCALPEER": return peer
            default: return Process.environment(name)
            }
        }
        let loader = ConfigLoader(context: FulcrumVersion.conditionContext(environment: environment))
        let (document, loadDiagnostics) = loader.load(paths: paths)
        var diagnostics = loadDiagnostics
        let (configuration, compileDiagnostics, rewrites) = ConfigCompiler.compile(document, environment: .system)
        diagnostics.append(contentsOf: compileDiagnostics)
        return Outcome(configuration: configuration, document: document, diagnostics: diagnostics, rewrites: rewrites)
    }

    /// Prints alerts always, warnings and notices unless quiet, then HAProxy's closing lines.
    func report(_ outcome: Outcome) {
        for diagnostic in outcome.diagnostics.items {
            if options.quiet && diagnostic.severity != .alert { continue }
            Process.printError(diagnostic.rendered(pid: pid))
        }
        if outcome.diagnostics.hasAlerts {
            for file in outcome.configuration.files where outcome.diagnostics.alerts.contains(where: { $0.location?.file == file }) {
                Process.printError(Diagnostic.alert("Error(s) found in configuration file : \(file)").rendered(pid: pid))
            }
            Process.printError(Diagnostic.alert("Fatal errors found in configuration.").rendered(pid: pid))
        } else if options.zeroWarning && !outcome.diagnostics.warnings.isEmpty {
            Process.printError(Diagnostic.alert("Some warnings were found and 'zero-warning' is set. Aborting.").rendered(pid: pid))
        }
    }

    static func failed(_ outcome: Outcome, zeroWarning: Bool) -> Bool {
        outcome.diagnostics.hasAlerts || (zeroWarning && !outcome.diagnostics.warnings.isEmpty)
    }
}
