#if os(Linux)
import Dispatch
import FulcrumEventLoop
import Glibc
import NIOCore
import Testing

/// The loop as a NIO `EventLoop` and as a timer wheel of its own: tasks from any thread
/// run on its thread in order, scheduled work fires at its time or is cancelled, and
/// shutting down cancels what is still waiting.
@Suite struct EpollEventLoopTests {
    @Test func futuresCompleteOnTheLoop() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let value = try loop.submit { loop.inEventLoop ? 42 : 0 }.value()
        #expect(value == 42)
        #expect(!loop.inEventLoop)
    }

    @Test func tasksFromManyThreadsAllRunOnTheLoopInEachThreadsOrder() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let threads = 8, perThread = 2000
        struct Record: Sendable { var producer: Int; var sequence: Int; var onLoop: Bool }
        let records = Shared([Record]())
        DispatchQueue.concurrentPerform(iterations: threads) { producer in
            for sequence in 0..<perThread {
                loop.execute {
                    let onLoop = loop.inEventLoop
                    records.withLock { $0.append(Record(producer: producer, sequence: sequence, onLoop: onLoop)) }
                }
            }
        }
        #expect(eventually { records.value.count == threads * perThread })
        let all = records.value
        #expect(all.count == threads * perThread)
        #expect(all.allSatisfy { $0.onLoop })
        for producer in 0..<threads {
            let sequence = all.filter { $0.producer == producer }.map(\.sequence)
            #expect(sequence == Array(0..<perThread), "producer \(producer)'s tasks ran in its order")
        }
    }

    @Test func tasksQueuedOnTheLoopRunAfterTheCurrentOneInOrder() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let order = Shared([String]())
        try onLoop(loop) {
            loop.executeOnLoop { order.withLock { $0.append("first") } }
            loop.execute { order.withLock { $0.append("second, through execute") } }
            loop.executeOnLoop {
                order.withLock { $0.append("third") }
                // Queued from a queued task: after those queued with it.
                loop.executeOnLoop { order.withLock { $0.append("fifth") } }
            }
            loop.executeOnLoop { order.withLock { $0.append("fourth") } }
            order.withLock { $0.append("current") }
        }
        #expect(eventually { order.value.count == 6 })
        #expect(order.value == ["current", "first", "second, through execute", "third", "fourth", "fifth"])
    }

    @Test func scheduledTasksFireNotBeforeTheirDeadlinesAndInOrder() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let fired = Shared([(name: String, early: Bool, onLoop: Bool)]())
        // Far enough ahead that all are armed before the first is due, however slow the
        // machine: the order then depends on the deadlines alone.
        let start = NIODeadline.now() + .milliseconds(150)
        let plan: [(String, Int64)] = [("30", 30), ("10a", 10), ("20", 20), ("10b", 10), ("0", 0), ("45", 45)]
        var futures: [EventLoopFuture<Void>] = []
        for (name, milliseconds) in plan {
            let deadline = start + .milliseconds(milliseconds)
            futures.append(loop.scheduleTask(deadline: deadline) {
                let early = NIODeadline.now() < deadline
                fired.withLock { $0.append((name, early, loop.inEventLoop)) }
            }.futureResult)
        }
        // From the loop's own thread too.
        let late = try onLoop(loop) {
            let deadline = start + .milliseconds(25)
            return loop.scheduleTask(deadline: deadline) {
                let early = NIODeadline.now() < deadline
                fired.withLock { $0.append(("25 from the loop", early, loop.inEventLoop)) }
            }.futureResult
        }
        for future in futures + [late] { try future.value() }
        #expect(fired.value.map(\.name) == ["0", "10a", "10b", "20", "25 from the loop", "30", "45"])
        #expect(fired.value.allSatisfy { $0.onLoop })
        #expect(fired.value.filter { $0.early }.map(\.name) == [], "none fired before its deadline")
    }

    @Test func scheduledTaskResultsAndErrorsReachTheFuture() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        struct Failure: Error, Equatable {}
        #expect(try loop.scheduleTask(in: .milliseconds(1)) { 7 }.futureResult.value() == 7)
        #expect(throws: Failure.self) {
            try loop.scheduleTask(in: .milliseconds(1)) { () throws -> Int in throw Failure() }.futureResult.value()
        }
    }

    @Test func aCancelledScheduledTaskNeverFiresAndItsFutureFails() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let ran = Shared(false)
        let scheduled = loop.scheduleTask(in: .milliseconds(150)) { ran.withLock { $0 = true } }
        scheduled.cancel()
        #expect(throws: EventLoopError.cancelled) { try scheduled.futureResult.value() }
        // Cancelled on the loop too, before it is due.
        let fromLoop = try onLoop(loop) {
            let task = loop.scheduleTask(in: .milliseconds(150)) { ran.withLock { $0 = true } }
            task.cancel()
            return task.futureResult
        }
        #expect(throws: EventLoopError.cancelled) { try fromLoop.value() }
        // Past both deadlines, with a later task as the witness that the loop went on.
        try loop.scheduleTask(in: .milliseconds(200)) {}.futureResult.value()
        #expect(!ran.value)
        #expect(try onLoop(loop) { loop.armedTimers } == 0, "the cancelled timers left the heap")
    }

    @Test func aTaskScheduledFromAnotherThreadCanBeCancelledOnTheLoopBeforeItIsArmed() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        // The loop is held in a task until the handle comes, so that the task's arming
        // still waits in the queue of other threads' work when the loop cancels it.
        let started = Shared(false)
        let handle = Shared<Scheduled<Void>?>(nil)
        let ran = Shared(false)
        loop.execute {
            started.withLock { $0 = true }
            let deadline = NIODeadline.now() + .seconds(2)
            while handle.value == nil && NIODeadline.now() < deadline { usleep(100) }
            handle.value?.cancel()
        }
        #expect(eventually { started.value })
        let scheduled = loop.scheduleTask(in: .milliseconds(20)) { ran.withLock { $0 = true } }
        handle.withLock { $0 = scheduled }
        #expect(throws: EventLoopError.cancelled) { try scheduled.futureResult.value() }
        try loop.scheduleTask(in: .milliseconds(40)) {}.futureResult.value()
        #expect(!ran.value)
        #expect(try onLoop(loop) { loop.armedTimers } == 0)
    }

    @Test func cancellingAFiredTaskChangesNothing() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let scheduled = loop.scheduleTask(in: .milliseconds(1)) { 5 }
        #expect(try scheduled.futureResult.value() == 5)
        scheduled.cancel()
        #expect(try loop.submit { 1 }.value() == 1)
        #expect(try scheduled.futureResult.value() == 5)
    }

    final class CallbackHandler: NIOScheduledCallbackHandler, Sendable {
        let handled = Shared(0)
        let cancelled = Shared(0)
        let handledOnLoop = Shared(true)
        let loop: EpollEventLoop
        init(loop: EpollEventLoop) { self.loop = loop }

        func handleScheduledCallback(eventLoop: some EventLoop) {
            let onLoop = loop.inEventLoop
            handledOnLoop.withLock { $0 = $0 && onLoop }
            handled.withLock { $0 += 1 }
        }

        func didCancelScheduledCallback(eventLoop: some EventLoop) {
            cancelled.withLock { $0 += 1 }
        }
    }

    @Test func scheduledCallbacksFireOnTheLoop() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let fromLoop = CallbackHandler(loop: loop)
        let fromOutside = CallbackHandler(loop: loop)
        try onLoop(loop) { _ = try loop.scheduleCallback(in: .milliseconds(5), handler: fromLoop) }
        _ = try loop.scheduleCallback(in: .milliseconds(5), handler: fromOutside)
        #expect(eventually { fromLoop.handled.value == 1 && fromOutside.handled.value == 1 })
        try loop.scheduleTask(in: .milliseconds(20)) {}.futureResult.value()
        for handler in [fromLoop, fromOutside] {
            #expect(handler.handled.value == 1, "called once")
            #expect(handler.cancelled.value == 0)
            #expect(handler.handledOnLoop.value)
        }
        #expect(try onLoop(loop) { loop.armedTimers } == 0)
    }

    @Test func cancelledScheduledCallbacksAreToldAndNeverFire() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        // Scheduled on the loop and cancelled there; scheduled on the loop and cancelled
        // from outside; scheduled from outside and cancelled from outside.
        let onLoopOnLoop = CallbackHandler(loop: loop)
        let onLoopOutside = CallbackHandler(loop: loop)
        let outsideOutside = CallbackHandler(loop: loop)
        let handle = try onLoop(loop) {
            let first = try loop.scheduleCallback(in: .milliseconds(150), handler: onLoopOnLoop)
            loop.cancelScheduledCallback(first)
            return try loop.scheduleCallback(in: .milliseconds(150), handler: onLoopOutside)
        }
        handle.cancel()
        let outside = try loop.scheduleCallback(in: .milliseconds(150), handler: outsideOutside)
        loop.cancelScheduledCallback(outside)
        #expect(eventually {
            [onLoopOnLoop, onLoopOutside, outsideOutside].allSatisfy { $0.cancelled.value == 1 }
        })
        try loop.scheduleTask(in: .milliseconds(200)) {}.futureResult.value()
        for handler in [onLoopOnLoop, onLoopOutside, outsideOutside] {
            #expect(handler.handled.value == 0, "never fired")
            #expect(handler.cancelled.value == 1, "told once")
        }
        #expect(try onLoop(loop) { loop.armedTimers } == 0)
    }

    @Test func aCallbackScheduledFromAnotherThreadCanBeCancelledOnTheLoop() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let handler = CallbackHandler(loop: loop)
        let started = Shared(false)
        let handle = Shared<NIOScheduledCallback?>(nil)
        loop.execute {
            started.withLock { $0 = true }
            let deadline = NIODeadline.now() + .seconds(2)
            while handle.value == nil && NIODeadline.now() < deadline { usleep(100) }
            if let callback = handle.value { loop.cancelScheduledCallback(callback) }
        }
        #expect(eventually { started.value })
        let callback = try loop.scheduleCallback(in: .milliseconds(20), handler: handler)
        handle.withLock { $0 = callback }
        #expect(eventually { handler.cancelled.value == 1 })
        try loop.scheduleTask(in: .milliseconds(40)) {}.futureResult.value()
        #expect(handler.handled.value == 0)
        #expect(handler.cancelled.value == 1)
    }

    @Test func loopTimersArmMoveAndDisarmOnTheLoop() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        let fired = Shared([String]())
        let ticks = Shared(0)
        let timers = try onLoop(loop) {
            let kept = LoopTimer { fired.withLock { $0.append("kept") } }
            let disarmed = LoopTimer { fired.withLock { $0.append("disarmed") } }
            let moved = LoopTimer { fired.withLock { $0.append("moved") } }
            let periodicRef = Ref<LoopTimer>()
            let periodic = LoopTimer {
                let count = ticks.withLock { $0 += 1; return $0 }
                // Re-armed from its own firing, up to three firings.
                if count < 3, let periodic = periodicRef.value { loop.arm(periodic, at: .now() + .milliseconds(2)) }
            }
            periodicRef.value = periodic
            loop.arm(kept, at: .now() + .milliseconds(20))
            loop.arm(disarmed, at: .now() + .milliseconds(5))
            loop.arm(moved, at: .now() + .milliseconds(500))
            loop.arm(periodic, at: .now() + .milliseconds(1))
            let armed = loop.armedTimers
            loop.disarm(disarmed)
            loop.disarm(disarmed)
            loop.arm(moved, at: .now() + .milliseconds(10))
            return Confined((timers: [kept, disarmed, moved, periodic], armed: armed, afterwards: loop.armedTimers,
                             disarmedIsArmed: disarmed.isArmed))
        }
        #expect(timers.value.armed == 4)
        #expect(timers.value.afterwards == 3, "disarming twice takes one out; moving a timer does not add one")
        #expect(!timers.value.disarmedIsArmed)
        #expect(eventually { fired.value.count == 2 && ticks.value == 3 })
        try loop.scheduleTask(in: .milliseconds(30)) {}.futureResult.value()
        #expect(fired.value == ["moved", "kept"])
        #expect(ticks.value == 3)
        #expect(try onLoop(loop) { loop.armedTimers } == 0)
        #expect(try onLoop(loop) { timers.value.timers.allSatisfy { !$0.isArmed } })
    }

    @Test func futureChainsStayOnTheLoop() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        struct Failure: Error {}
        let onLoopEverywhere = Shared(true)
        let note: @Sendable () -> Void = {
            let here = loop.inEventLoop
            onLoopEverywhere.withLock { $0 = $0 && here }
        }
        let promise = loop.makePromise(of: Int.self)
        let chained = promise.futureResult
            .flatMap { value in
                note()
                return loop.scheduleTask(in: .milliseconds(2)) { value + 1 }.futureResult
            }
            .map { value in
                note()
                return value * 10
            }
            .flatMapThrowing { (value: Int) -> Int in
                note()
                if value == 20 { throw Failure() }
                return value
            }
            .recover { _ in
                note()
                return -1
            }
            .and(loop.submit { 3 })
            .map { pair in pair.0 + pair.1 }
        DispatchQueue.global().async { promise.succeed(1) }
        #expect(try chained.value() == 2)
        #expect(onLoopEverywhere.value)

        let all = EventLoopFuture.whenAllSucceed((0..<20).map { k in
            loop.scheduleTask(in: .milliseconds(Int64(20 - k))) { k }.futureResult
        }, on: loop)
        #expect(try all.value() == Array(0..<20), "results in the futures' order, whatever the firing order")
        let reduced = EventLoopFuture.reduce(0, (1...10).map { loop.makeSucceededFuture($0) }, on: loop) { $0 + $1 }
        #expect(try reduced.value() == 55)
    }

    @Test func shutdownCancelsWhatIsStillScheduled() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        var shut = false
        defer { if !shut { try? loop.syncShutdownGracefully() } }
        let outcomes = Shared([String]())
        let ran = Shared(false)
        let callback = CallbackHandler(loop: loop)
        // The futures' callbacks are added on the loop, before the loop stops: a future
        // of a stopped loop cannot be waited on from outside.
        let armed = try onLoop(loop) {
            for k in 0..<3 {
                loop.scheduleTask(in: .seconds(30)) { ran.withLock { $0 = true } }.futureResult.whenComplete { result in
                    switch result {
                    case .success: outcomes.withLock { $0.append("\(k) ran") }
                    case .failure(let error): outcomes.withLock { $0.append("\(k) \(error)") }
                    }
                }
            }
            _ = try loop.scheduleCallback(in: .seconds(30), handler: callback)
            return loop.armedTimers
        }
        #expect(armed == 4)
        let clock = ContinuousClock()
        let start = clock.now
        try loop.syncShutdownGracefully()
        shut = true
        #expect(clock.now - start < .seconds(2), "no wait for the deadlines")
        #expect(!ran.value)
        #expect(outcomes.value.count == 3)
        #expect(outcomes.value.allSatisfy { $0.hasSuffix("\(EventLoopError.cancelled)") })
        #expect(callback.cancelled.value == 1)
        #expect(callback.handled.value == 0)
    }

    @Test func shutdownFromAnotherThreadOfALoopWaitingForever() throws {
        // Nothing scheduled and nothing registered: the loop sleeps in epoll_wait with no
        // timeout, and the stop request has to wake it.
        let loop = try EpollEventLoop(name: "test-loop")
        #expect(try loop.submit { 1 }.value() == 1)
        usleep(20_000)
        let clock = ContinuousClock()
        let start = clock.now
        try loop.syncShutdownGracefully()
        #expect(clock.now - start < .seconds(2))
    }

    @Test func groupHandsOutItsLoopsInTurn() throws {
        let group = try EpollEventLoopGroup(threads: 3, name: "test-group")
        defer { try? group.syncShutdownGracefully() }
        let loops = group.loops
        #expect(loops.count == 3)
        let handedOut = (0..<7).map { _ in ObjectIdentifier(group.nextLoop()) }
        let ids = loops.map(ObjectIdentifier.init)
        #expect(handedOut == [ids[0], ids[1], ids[2], ids[0], ids[1], ids[2], ids[0]])
        // `next()` shares the turn, and a loop's own `next()` asks its group.
        #expect(group.next() === loops[1])
        #expect(loops[0].next() === loops[2])
        #expect(Array(group.makeIterator()).count == 3)
        // A thread of its own for each loop.
        let threads = try loops.map { loop in try loop.submit { UInt(pthread_self()) }.value() }
        #expect(Set(threads).count == 3)
        // `any()` on a loop's thread is that loop.
        #expect(try loops[2].submit { group.any() === loops[2] }.value())
        #expect(group.any() === loops[0])
        #expect(try loops[1].submit { loops[1].inEventLoop && !loops[0].inEventLoop }.value())
    }

    @Test func aLoneLoopIsItsOwnNext() throws {
        let loop = try EpollEventLoop(name: "test-loop")
        defer { try? loop.syncShutdownGracefully() }
        #expect(loop.next() === loop)
        #expect(loop.any() === loop)
    }
}
#endif

#if os(Linux)
/// Spare buffers: one given back whole and unshared is lent again; a shared one or a
/// slice of a larger buffer is not kept.
@Suite struct SpareBufferTests {
    @Test func aRecycledBufferIsLentAgainAndASharedOneIsNot() throws {
        let loop = try EpollEventLoop(name: "spare-test")
        defer { try? loop.syncShutdownGracefully() }
        let outcome = try loop.submit { () -> [Bool] in
            var first: ByteBuffer? = loop.borrowBuffer(capacity: 100)
            first!.writeString("GET / HTTP/1.1\r\n\r\n")
            let address = first!.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            loop.recycle(&first)
            var again: ByteBuffer? = loop.borrowBuffer(capacity: 100)
            let reused = again!.withUnsafeMutableWritableBytes { UInt(bitPattern: $0.baseAddress) } == address
            let empty = again!.readableBytes == 0
            let kept = again
            loop.recycle(&again)
            var third: ByteBuffer? = loop.borrowBuffer(capacity: 100)
            let notShared = third!.withUnsafeMutableWritableBytes { UInt(bitPattern: $0.baseAddress) } != address
            _ = kept
            var big = ByteBufferAllocator().buffer(capacity: 65536)
            big.writeRepeatingByte(1, count: 1000)
            var slice: ByteBuffer? = big.getSlice(at: 0, length: 100)
            big = ByteBufferAllocator().buffer(capacity: 0)
            loop.recycle(&slice)
            var fourth: ByteBuffer? = loop.borrowBuffer(capacity: 50)
            let notSlice = fourth!.storageCapacity <= 16384
            loop.recycle(&third)
            loop.recycle(&fourth)
            return [reused, empty, notShared, notSlice, first == nil]
        }.wait()
        #expect(outcome == [true, true, true, true, true])
    }
}
#endif
