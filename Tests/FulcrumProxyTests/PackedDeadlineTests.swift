import NIOCore
import Testing
@testable import FulcrumProxy

/// Moments kept as a number, 0 for none: each must read back as it was set, the
/// extremes included (a deadline of 0 nanoseconds is not "none").
@Suite struct PackedDeadlineTests {
    struct Holder {
        @PackedDeadline var moment: NIODeadline? = nil
    }

    @Test func everyDeadlineReadsBackAsSet() {
        var holder = Holder()
        #expect(holder.moment == nil)
        for deadline: NIODeadline in [.distantPast, .uptimeNanoseconds(1), .uptimeNanoseconds(1_000_000_007),
                                      .now(), .distantFuture, .uptimeNanoseconds(UInt64.max)] {
            holder.moment = deadline
            #expect(holder.moment == deadline)
        }
        holder.moment = nil
        #expect(holder.moment == nil)
        #expect(Holder(moment: .distantPast).moment == .distantPast)
        #expect(MemoryLayout<Holder>.size == 8)
    }

    @Test func logContextMomentsStartUnset() {
        var log = RequestLogContext(frontendName: "fe")
        #expect(log.requestStarted == nil && log.ended == nil && log.connected == nil)
        log.queueStarted = .distantPast
        log.queueEnded = .uptimeNanoseconds(2_500_000)
        #expect(RequestLogContext.millisIfBoth(log.queueStarted, log.queueEnded) == 2)
        log.nextRequest()
        #expect(log.queueStarted == nil && log.queueEnded == nil)
    }
}
