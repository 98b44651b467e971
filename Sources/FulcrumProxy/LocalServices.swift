import NIOConcurrencyHelpers

/// What Fulcrum's own HTTP services (the stats page, the Prometheus exporter) read:
/// the statistics and the runtime API. The HTTP policies are built before the
/// registry exists, so it is handed over once start-up has built it; a scrape or a
/// page view reads it under a lock no proxied request ever takes.
final class LocalServices: Sendable {
    private let box = NIOLockedValueBox<(StatsRegistry, RuntimeAPI)?>(nil)

    init() {}

    func set(_ stats: StatsRegistry, _ api: RuntimeAPI) { box.withLockedValue { $0 = (stats, api) } }

    var current: (stats: StatsRegistry, api: RuntimeAPI)? { box.withLockedValue { $0 } }
}
