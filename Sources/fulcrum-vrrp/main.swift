#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRPDaemon

func printError(_ text: String) {
    var bytes = Array((text + "\n").utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}

func hostname() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
    let full = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(full.prefix { $0 != "." })
}

let options: CommandLineOptions
do {
    options = try CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    printError("fulcrum-vrrp: \(error)\n\(CommandLineOptions.usage)")
    exit(2)
}
if options.showHelp { print(CommandLineOptions.usage); exit(0) }
if options.showVersion { print("fulcrum-vrrp 0.1 (keepalived 2.2 configuration, VRRPv2/v3)"); exit(0) }

let configID = options.configID ?? hostname()

if options.configTest && options.configFiles.count > 1 {
    var nodes: [ClusterCheck.Node] = []
    var failed = false
    for path in options.configFiles {
        let (config, diagnostics) = KeepalivedConfigParser.load(path: path, configID: configID)
        for d in diagnostics where d.severity != .notice { printError(d.description) }
        if diagnostics.hasErrors { failed = true }
        nodes.append(ClusterCheck.Node(name: path, configuration: config))
    }
    let findings = ClusterCheck.check(nodes)
    for f in findings { printError(f.description) }
    exit(failed || findings.hasErrors ? 1 : 0)
}

let (configuration, diagnostics) = KeepalivedConfigParser.load(path: options.configFiles[0], configID: configID)
for d in diagnostics where d.severity != .notice || options.configTest || options.logDetail { printError(d.description) }
if diagnostics.hasErrors {
    printError("fulcrum-vrrp: \(options.configFiles[0]): configuration has errors, not starting")
    exit(1)
}
if options.configTest {
    // Scripts whose user or group does not exist would be disabled at start.
    let scriptFindings = ScriptUserCheck.findings(configuration)
    for finding in scriptFindings { printError(finding.description) }
    exit(scriptFindings.isEmpty ? 0 : 1)
}
if configuration.instances.isEmpty {
    printError("fulcrum-vrrp: no vrrp_instance in \(options.configFiles[0]); nothing to do")
    exit(1)
}

if !options.dontFork {
    guard daemon(0, 0) == 0 else { printError("fulcrum-vrrp: daemon(): \(SystemError("daemon"))"); exit(1) }
}
let log = DaemonLog(console: options.logConsole, syslog: options.syslog, detail: options.logDetail, facility: options.facility)
let pidFile = options.pidFile ?? (options.dontFork ? nil : "/run/fulcrum-vrrp.pid")
if let pidFile, let f = fopen(pidFile, "w") {
    fputs("\(getpid())\n", f)
    fclose(f)
}
log.info("Starting fulcrum-vrrp (config \(options.configFiles[0]), config-id \(configID))")
let status: Int32
do {
    var daemonOptions = VRRPDaemon.Options()
    daemonOptions.configPath = options.configFiles[0]
    daemonOptions.configID = configID
    let daemon = try VRRPDaemon(configuration: configuration, log: log, options: daemonOptions)
    status = daemon.run()
} catch {
    log.error("cannot start: \(error)")
    if !options.logConsole { printError("fulcrum-vrrp: cannot start: \(error)") }
    status = 1
}
if let pidFile { unlink(pidFile) }
log.info("Stopped")
exit(status)
