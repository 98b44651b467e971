#if os(Linux)
import Dispatch
import NIOCore

/// NIO's view of the loop: futures, promises, tasks and scheduled callbacks work on it
/// as on NIO's own loops.
extension EpollEventLoop: EventLoop {
    public func execute(_ task: @escaping @Sendable () -> Void) {
        if inEventLoop {
            executeOnLoop(task)
        } else {
            executeRemotely(task)
        }
    }

    public func _executeIsolatedUnsafeUnchecked(_ task: @escaping () -> Void) {
        executeOnLoop(task)
    }

    public func scheduleTask<T>(deadline: NIODeadline, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        let promise = makePromise(of: T.self)
        // Whether the task ran or was cancelled: only the loop's thread reads or sets it.
        let settled = UnsafeTransfer(SettledFlag())
        let timer = LoopTimer {
            settled.value.done = true
            do { promise.assumeIsolated().succeed(try task()) } catch { promise.fail(error) }
        }
        timer.cancelled = { promise.fail(EventLoopError.cancelled) }
        let unsafeTimer = UnsafeTransfer(timer)
        let arm: @Sendable () -> Void = {
            // Cancelled on the loop's thread while this arming, queued by another, waited.
            guard !settled.value.done else { return }
            self.arm(unsafeTimer.value, at: deadline)
        }
        if inEventLoop { arm() } else { execute(arm) }
        return Scheduled(promise: promise) {
            self.execute {
                guard !settled.value.done else { return }
                settled.value.done = true
                let timer = unsafeTimer.value
                timer.cancelled = nil
                // Armed or not yet (its arming waits in the queue), it never runs.
                if timer.isArmed { self.disarm(timer) }
                promise.fail(EventLoopError.cancelled)
            }
        }
    }

    public func scheduleTask<T>(in amount: TimeAmount, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        scheduleTask(deadline: .now() + amount, task)
    }

    public func scheduleCallback(at deadline: NIODeadline,
                                 handler: some (NIOScheduledCallbackHandler & Sendable)) throws -> NIOScheduledCallback {
        guard inEventLoop else {
            // From another thread the generic path (a scheduled task) is the safe one; it is
            // kept by an identifier of its own, so that `cancelScheduledCallback` finds it.
            let id = Self.remoteCallbackBit | nextRemoteCallbackID.wrappingAdd(1, ordering: .relaxed).newValue
            let task = scheduleTask(deadline: deadline) { handler.handleScheduledCallback(eventLoop: self) }
            remoteCallbacks.withLockedValue { $0[id] = task }
            task.futureResult.whenComplete { result in
                self.remoteCallbacks.withLockedValue { $0[id] = nil }
                if case .failure(let error) = result, error as? EventLoopError == .cancelled {
                    handler.didCancelScheduledCallback(eventLoop: self)
                }
            }
            return NIOScheduledCallback(self, id: id)
        }
        nextCallbackID &+= 1
        let id = nextCallbackID
        let timer = LoopTimer { [unowned self] in
            self.callbacks[id] = nil
            handler.handleScheduledCallback(eventLoop: self)
        }
        timer.cancelled = { [unowned self] in handler.didCancelScheduledCallback(eventLoop: self) }
        callbacks[id] = timer
        arm(timer, at: deadline)
        return NIOScheduledCallback(self, id: id)
    }

    public func cancelScheduledCallback(_ scheduledCallback: NIOScheduledCallback) {
        guard let id = scheduledCallback.customCallbackID else { return }
        if id & Self.remoteCallbackBit != 0 {
            remoteCallbacks.withLockedValue { $0.removeValue(forKey: id) }?.cancel()
            return
        }
        let cancel: @Sendable () -> Void = {
            guard let timer = self.callbacks.removeValue(forKey: id) else { return }
            self.disarm(timer)
            timer.cancelled?()
        }
        if inEventLoop { cancel() } else { execute(cancel) }
    }

    public func preconditionInEventLoop(file: StaticString, line: UInt) {
        precondition(inEventLoop, "not on the event loop's thread", file: file, line: line)
    }

    public func preconditionNotInEventLoop(file: StaticString, line: UInt) {
        precondition(!inEventLoop, "on the event loop's thread", file: file, line: line)
    }

    public func next() -> any EventLoop {
        group?.next() ?? self
    }

    public func any() -> any EventLoop {
        self
    }

    public func makeIterator() -> EventLoopIterator {
        EventLoopIterator([self])
    }

    public func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        requestStop()
        DispatchQueue.global().async {
            self.waitUntilStopped()
            queue.async { callback(nil) }
        }
    }
}

/// A scheduled task's outcome so far, on its loop.
final class SettledFlag {
    var done = false
}

/// Carries a loop-confined value through a `@Sendable` closure that runs on that loop.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
#endif
