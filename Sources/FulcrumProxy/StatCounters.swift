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

    init() {}

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
