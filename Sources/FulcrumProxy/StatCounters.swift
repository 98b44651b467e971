import Synchronization

/// The counters `show stat` reports for one frontend, backend or server: relaxed
/// atomic adds, once per request or per forwarded chunk, never a lock.
final class StatCounters: Sendable {
    /// Sessions (TCP connections, HTTP requests on a server) so far.
    let sessions = Atomic<Int>(0)
    let bytesIn = Atomic<Int>(0)
    let bytesOut = Atomic<Int>(0)
    /// Requests the frontend refused as malformed (`ereq`).
    let requestErrors = Atomic<Int>(0)
    /// Requests refused by a `deny` rule (`dreq`).
    let deniedRequests = Atomic<Int>(0)
    /// Responses refused by an `http-response deny` rule (`dresp`).
    let deniedResponses = Atomic<Int>(0)
    /// Connections refused by a `tcp-request connection reject` rule (`dcon`).
    let deniedConnections = Atomic<Int>(0)
    /// Connections to servers that failed (`econ`), retries (`wretr`), times a server
    /// was picked (`lbtot`), requests seen by a frontend (`req_tot`).
    let connectErrors = Atomic<Int>(0)
    let retries = Atomic<Int>(0)
    let picked = Atomic<Int>(0)
    let requests = Atomic<Int>(0)
    /// Responses by class (`hrsp_1xx` ... `hrsp_5xx`, `hrsp_other`).
    let status1xx = Atomic<Int>(0), status2xx = Atomic<Int>(0), status3xx = Atomic<Int>(0)
    let status4xx = Atomic<Int>(0), status5xx = Atomic<Int>(0), statusOther = Atomic<Int>(0)

    /// Per-second rates (`rate`, also a frontend's `conn_rate`; `req_rate`) and their peaks: worked out
    /// by a once-a-second tick from the totals, so counting stays one relaxed add.
    let sessionRate = Atomic<Int>(0), sessionRateMax = Atomic<Int>(0)
    let requestRate = Atomic<Int>(0), requestRateMax = Atomic<Int>(0)
    private let lastTotals = Atomic<Int>(0), lastRequests = Atomic<Int>(0)

    /// The last request refused as malformed (`show errors`; frontends only).
    let errorCapture = ErrorCapture()

    /// Queue, connect, response and total times (ms) of the last requests, as HAProxy's
    /// sliding averages over up to 1,024 samples (`qtime`, `ctime`, `rtime`, `ttime`)
    /// and their maxima. Each is a load and a store, not a locked update: two loops
    /// finishing at the same instant may lose one sample of an average.
    let timedSamples = Atomic<Int>(0)
    let queueTimeSum = Atomic<Int>(0), connectTimeSum = Atomic<Int>(0), responseTimeSum = Atomic<Int>(0), totalTimeSum = Atomic<Int>(0)
    let queueTimeMax = Atomic<Int>(0), connectTimeMax = Atomic<Int>(0), responseTimeMax = Atomic<Int>(0), totalTimeMax = Atomic<Int>(0)
    /// When the balancer last picked this server (wall-clock seconds, 0: never).
    let lastPick = Atomic<Int>(0)
    static let timeWindow = 1024
    /// Wall-clock seconds, set by the statistics' once-a-second tick: `lastPick` reads
    /// it instead of the clock on every pick.
    static let clockSeconds = Atomic<Int>(0)

    init() {}

    /// One finished request's times in milliseconds. As HAProxy, every sample has a
    /// queue and a connect time (0 when not queued, or on a reused connection); nil
    /// `response` is a TCP connection, which has none.
    func recordTimes(queue: Int?, connect: Int?, response: Int?, total: Int) {
        let queue = queue ?? 0, connect = connect ?? 0
        guard total >= 0 else { return }
        let n = min(timedSamples.wrappingAdd(1, ordering: .relaxed).newValue, Self.timeWindow)
        func add(_ sum: borrowing Atomic<Int>, _ peak: borrowing Atomic<Int>, _ value: Int?) {
            guard let value, value >= 0 else { return }
            let old = sum.load(ordering: .relaxed)
            sum.store(old - (old + n - 1) / n + value, ordering: .relaxed)
            if value > peak.load(ordering: .relaxed) { peak.store(value, ordering: .relaxed) }
        }
        add(queueTimeSum, queueTimeMax, queue)
        add(connectTimeSum, connectTimeMax, connect)
        add(responseTimeSum, responseTimeMax, response)
        add(totalTimeSum, totalTimeMax, total)
    }

    /// The sliding averages: queue, connect, response, total (ms).
    var averageTimes: [Int] {
        let n = min(timedSamples.load(ordering: .relaxed), Self.timeWindow)
        guard n > 0 else { return [0, 0, 0, 0] }
        func avg(_ sum: borrowing Atomic<Int>) -> Int { (sum.load(ordering: .relaxed) + n - 1) / n }
        return [avg(queueTimeSum), avg(connectTimeSum), avg(responseTimeSum), avg(totalTimeSum)]
    }

    var maximumTimes: [Int] {
        [queueTimeMax.load(ordering: .relaxed), connectTimeMax.load(ordering: .relaxed),
         responseTimeMax.load(ordering: .relaxed), totalTimeMax.load(ordering: .relaxed)]
    }

    /// Called once a second by one task: the rates over the last second.
    func tick() {
        func update(_ total: borrowing Atomic<Int>, _ last: borrowing Atomic<Int>, _ rate: borrowing Atomic<Int>, _ peak: borrowing Atomic<Int>) {
            let now = total.load(ordering: .relaxed)
            let delta = max(0, now - last.exchange(now, ordering: .relaxed))
            rate.store(delta, ordering: .relaxed)
            if delta > peak.load(ordering: .relaxed) { peak.store(delta, ordering: .relaxed) }
        }
        update(sessions, lastTotals, sessionRate, sessionRateMax)
        update(requests, lastRequests, requestRate, requestRateMax)
    }

    /// `clear counters`: the maxima only; `clear counters all`: every counter.
    func clear(all: Bool) {
        func zero(_ a: borrowing Atomic<Int>) { a.store(0, ordering: .relaxed) }
        zero(sessionRateMax); zero(requestRateMax)
        zero(queueTimeMax); zero(connectTimeMax); zero(responseTimeMax); zero(totalTimeMax)
        guard all else { return }
        zero(sessions); zero(bytesIn); zero(bytesOut); zero(requestErrors); zero(deniedRequests); zero(deniedResponses)
        zero(deniedConnections); zero(connectErrors); zero(retries); zero(picked); zero(requests); zero(lastPick)
        zero(status1xx); zero(status2xx); zero(status3xx); zero(status4xx); zero(status5xx); zero(statusOther)
        zero(lastTotals); zero(lastRequests); zero(sessionRate); zero(requestRate)
        zero(timedSamples); zero(queueTimeSum); zero(connectTimeSum); zero(responseTimeSum); zero(totalTimeSum)
    }

    func countResponse(_ status: Int) {
        switch status {
        case 100..<200: status1xx.add(1, ordering: .relaxed)
        case 200..<300: status2xx.add(1, ordering: .relaxed)
        case 300..<400: status3xx.add(1, ordering: .relaxed)
        case 400..<500: status4xx.add(1, ordering: .relaxed)
        case 500..<600: status5xx.add(1, ordering: .relaxed)
        default: statusOther.add(1, ordering: .relaxed)
        }
    }

    var responseCounts: [Int] {
        [status1xx.load(ordering: .relaxed), status2xx.load(ordering: .relaxed), status3xx.load(ordering: .relaxed),
         status4xx.load(ordering: .relaxed), status5xx.load(ordering: .relaxed), statusOther.load(ordering: .relaxed)]
    }
}
