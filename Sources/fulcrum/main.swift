import Dispatch
import FulcrumCore
import FulcrumProxy
import HAProxyConfig

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

let options: CommandLineOptions
do {
    options = try CommandLineParser.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    Process.printError("fulcrum: \(error.message)")
    Process.printError(CommandLineParser.usage)
    exit(1)
}

if options.showHelp {
    Process.print(CommandLineParser.usage)
    exit(0)
}
if options.showVersion || options.showBuildInfo {
    Process.print("Fulcrum version \(FulcrumVersion.version) - runs HAProxy \(FulcrumVersion.haproxyCompatibility) configurations")
    if options.showBuildInfo {
        Process.print("Running on: \(Process.systemDescription)")
        Process.print("Build options :\n  LANGUAGE=Swift 6\n  EVENT_LOOPS=one per thread (nbthread, default: number of cores = \(Process.cores))")
        Process.print("\nFeature list : \(FulcrumVersion.featureLine)")
        Process.print("\nDefault settings :\n  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200")
        Process.print("\nAvailable polling systems :\n      epoll : pref=300,  test result OK")
        Process.print("\nAvailable multiplexer protocols :\n              h1 : mode=HTTP  side=FE|BE\n       <default> : mode=TCP   side=FE|BE")
    }
    exit(0)
}
if options.listKeywords {
    Process.print(KeywordDocumentation.markdown())
    exit(0)
}
if let expression = options.evaluateCondition {
    let context = FulcrumVersion.conditionContext(environment: { Process.environment($0) })
    switch ConditionExpression.evaluate(expression, in: context) {
    case .success(let value):
        exit(value ? 0 : 1)
    case .failure(let failure):
        Process.printError(Diagnostic.alert("Failed to evaluate condition: \(failure.message)").rendered(pid: Process.id))
        exit(2)
    }
}
guard !options.configPaths.isEmpty else {
    Process.printError("fulcrum: no configuration file given (use -f FILE or -f DIRECTORY)")
    Process.printError(CommandLineParser.usage)
    exit(1)
}

let check = ConfigurationCheck(options: options, pid: Process.id)
let outcome = check.run()

if options.printModernConfig {
    check.report(outcome)
    if outcome.diagnostics.hasAlerts { exit(1) }
    Process.print(ModernConfigPrinter.print(outcome.document, rewrites: outcome.rewrites))
    exit(0)
}

check.report(outcome)
if ConfigurationCheck.failed(outcome, zeroWarning: options.zeroWarning) {
    exit(1)
}
if options.checkOnly {
    if !options.quiet { Process.print("Configuration file is valid") }
    exit(0)
}

var configuration = outcome.configuration
// `-n` overrides the global `maxconn`, as with haproxy.
if let maxconn = options.maxconn { configuration.global.maxconn = maxconn }
let global = configuration.global
// A supervisor may signal as soon as the pid file exists, before the handlers are in
// place: SIGUSR1 would kill and SIGTTOU/SIGTTIN would stop the process meanwhile.
SignalHandling.ignoreUntilInstalled()
let handshake = (global.daemon || options.daemon) && !options.foreground ? ProcessSetup.daemonize() : nil
let runtime: ProxyRuntime
do {
    let quiet = options.quiet || global.quiet
    runtime = try ProxyRuntime(configuration: configuration, threads: global.threadCount(cores: Process.cores)) { level, message in
        // Server state changes, on stderr as HAProxy prints them in the foreground.
        let diagnostic: Diagnostic
        switch level {
        case .notice: diagnostic = .notice(message)
        case .warning: diagnostic = .warning(message)
        case .alert: diagnostic = .alert(message)
        }
        if quiet && level != .alert { return }
        Process.printError(diagnostic.renderedAtRuntime(pid: Process.id))
    }
    let bound = try runtime.start()
    if options.debug {
        for listener in bound { Process.printError(Diagnostic.notice("listening: \(listener)").rendered(pid: Process.id)) }
    }
    // As HAProxy: the pid file first, then the jail, then the user, all after binding.
    if let pidfile = options.pidfile ?? global.pidfile { try ProcessSetup.writePidfile(pidfile) }
    if let directory = global.chroot { try ProcessSetup.enterChroot(directory) }
    try ProcessSetup.dropPrivileges(uid: global.uid, gid: global.gid)
} catch {
    Process.printError(Diagnostic.alert("\(error)").rendered(pid: Process.id))
    exit(1)
}
handshake?.succeeded()

SignalHandling.install(runtime: runtime, hardStopAfter: configuration.global.hardStopAfter)
dispatchMain()
