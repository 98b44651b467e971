/// What the command line asked for. Flags follow haproxy's, so service units and
/// scripts written for haproxy start Fulcrum unchanged.
struct CommandLineOptions: Sendable {
    var configPaths: [String] = []
    var checkOnly = false
    var showVersion = false
    var showBuildInfo = false
    var debug = false
    var foreground = false
    var daemon = false
    var pidfile: String? = nil
    var quiet = false
    var localPeer: String? = nil
    var softStopPIDs: [Int32] = []
    var hardStopPIDs: [Int32] = []
    var evaluateCondition: String? = nil
    var socketForListeners: String? = nil
    var printModernConfig = false
    var listKeywords = false
    var showHelp = false
    var maxconn: Int? = nil
    var masterWorker = false
    var diagnosticMode = false
    var zeroWarning = false
}
