#if os(Linux)
import CFulcrumLinux
import Glibc
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// One thread waiting on one epoll set: the event loop of Fulcrum's own sockets.
///
/// NIO's loops drive channels, and a channel costs, per connection, four `epoll_ctl`
/// calls, `getsockname` and `getpeername`, two `fcntl` and a chain of futures before
/// its first byte: measured here, about 30 µs of user time and 12 system calls more
/// than HAProxy per proxied connection. This loop watches raw descriptors registered
/// once, edge-triggered, and calls their owners directly. It also is a NIO
/// `EventLoop` (tasks, scheduled tasks and callbacks, futures and promises work on it
/// unchanged), so code written for NIO's loops runs here as it is.
///
/// What only the loop's thread touches is unsynchronised; other threads reach the loop
/// through `execute`, whose queue is locked and whose wake-up is an eventfd.
public final class EpollEventLoop: @unchecked Sendable {
    /// A descriptor's place in the loop: its index in `slots` and the generation the
    /// slot had when it was given, so that an event read for a descriptor since closed
    /// (and its number reused) does not reach the new owner.
    public struct Registration: Equatable, Sendable {
        let index: UInt32
        let generation: UInt32
        var tag: UInt64 { UInt64(generation) << 32 | UInt64(index) }
    }

    private struct Slot {
        var handler: (any ReadinessHandler)?
        var generation: UInt32 = 0
    }

    private static let wakeTag = UInt64.max
    private static let batch = 256

    private let epoll: CInt
    private let wakeFD: CInt
    private let threadID = Atomic<UInt>(0)
    private let stopRequested = Atomic<Bool>(false)
    private let wakePending = Atomic<Bool>(false)
    private let remoteTasks = NIOLockedValueBox<[@Sendable () -> Void]>([])
    private let finished = ConditionLock(value: false)

    // The loop's thread only.
    private var tasks: [() -> Void] = []
    private var spareTasks: [() -> Void] = []
    private var timers = TimerHeap()
    private var slots: [Slot] = []
    private var freeSlots: [UInt32] = []
    private var tags = [UInt64](repeating: 0, count: batch)
    private var readiness = [UInt32](repeating: 0, count: batch)
    /// The time read once per turn (after the wait, and again before the timers):
    /// connections stamp their events with it instead of asking the clock each time,
    /// as HAProxy does with its own per-loop date.
    private var turnStarted = NIODeadline.now()
    /// Scheduled NIO callbacks by the identifier their handle carries.
    var callbacks: [UInt64: LoopTimer] = [:]
    var nextCallbackID: UInt64 = 0
    /// NIO callbacks scheduled from other threads, as scheduled tasks, by identifier
    /// (`remoteCallbackBit` set, so that they never meet the loop's own).
    let remoteCallbacks = NIOLockedValueBox<[UInt64: Scheduled<Void>]>([:])
    let nextRemoteCallbackID = Atomic<UInt64>(0)
    static let remoteCallbackBit: UInt64 = 1 << 63
    /// The group that made the loop, for `next()`; the loop itself when alone.
    weak var group: EpollEventLoopGroup?

    /// Writing to a socket the peer reset raises SIGPIPE, whose default action ends the
    /// process: it is ignored, as NIO does when it makes its first socket, so that the
    /// write fails with EPIPE and the socket's owner hears of it.
    private static let sigpipeIgnored: Bool = {
        _ = signal(SIGPIPE, SIG_IGN)
        return true
    }()

    /// Starts a loop on a thread of its own named `name` (at most 15 bytes show).
    public init(name: String = "fulcrum-loop") throws {
        precondition(Self.sigpipeIgnored)
        let epoll = fulcrum_epoll_create()
        guard epoll >= 0 else { throw IOError(errnoCode: errno, reason: "epoll_create1") }
        let wake = fulcrum_eventfd()
        guard wake >= 0 else {
            let code = errno
            Glibc.close(epoll)
            throw IOError(errnoCode: code, reason: "eventfd")
        }
        self.epoll = epoll
        self.wakeFD = wake
        guard fulcrum_epoll_control(epoll, 1, wake, FULCRUM_EV_IN, 0, Self.wakeTag) == 0 else {
            let code = errno
            Glibc.close(epoll)
            Glibc.close(wake)
            throw IOError(errnoCode: code, reason: "epoll_ctl")
        }
        try startThread(name: name)
    }

    deinit {
        Glibc.close(epoll)
        Glibc.close(wakeFD)
    }

    private func startThread(name: String) throws {
        let retained = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<EpollEventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, retained)
        guard created == 0 else {
            Unmanaged<EpollEventLoop>.fromOpaque(retained).release()
            throw IOError(errnoCode: created, reason: "pthread_create")
        }
        _ = fulcrum_set_thread_name(thread, String(name.prefix(15)))
        pthread_detach(thread)
    }

    // MARK: Descriptors

    /// Watches `fd` for `events`; edge-triggered interest is reported once per change
    /// and needs no `epoll_ctl` afterwards. On the loop's thread only.
    public func register(_ fd: CInt, for events: Readiness, edgeTriggered: Bool,
                         handler: any ReadinessHandler) throws -> Registration {
        let index: UInt32
        if let free = freeSlots.popLast() {
            index = free
        } else {
            index = UInt32(slots.count)
            slots.append(Slot())
        }
        slots[Int(index)].handler = handler
        let registration = Registration(index: index, generation: slots[Int(index)].generation)
        guard fulcrum_epoll_control(epoll, 1, fd, events.rawValue, edgeTriggered ? 1 : 0, registration.tag) == 0 else {
            let code = errno
            release(registration)
            throw IOError(errnoCode: code, reason: "epoll_ctl")
        }
        return registration
    }

    /// Changes what a level-triggered descriptor is watched for.
    public func modify(_ registration: Registration, fd: CInt, for events: Readiness, edgeTriggered: Bool) throws {
        guard fulcrum_epoll_control(epoll, 3, fd, events.rawValue, edgeTriggered ? 1 : 0, registration.tag) == 0 else {
            throw IOError(errnoCode: errno, reason: "epoll_ctl")
        }
    }

    /// The handler lets its descriptor go. Pass `fd` when the descriptor stays open (or
    /// has a duplicate): it leaves the epoll set; closing the only descriptor of a socket
    /// takes it out by itself, so a closing owner passes nil and saves the call.
    public func deregister(_ registration: Registration, fd: CInt?) {
        if let fd { _ = fulcrum_epoll_control(epoll, 2, fd, 0, 0, 0) }
        release(registration)
    }

    private func release(_ registration: Registration) {
        let index = Int(registration.index)
        guard index < slots.count, slots[index].generation == registration.generation else { return }
        slots[index].handler = nil
        slots[index].generation &+= 1
        freeSlots.append(registration.index)
    }

    /// The descriptors registered now.
    public var registeredCount: Int { slots.count - freeSlots.count }

    // MARK: The read buffer

    /// The buffer every socket of the loop reads into: one per loop instead of one per
    /// connection. A socket takes it for a read and gives it back; when the owner kept
    /// the bytes, the next `clear` finds the storage shared and takes a fresh one.
    private var readBuffer = ByteBufferAllocator().buffer(capacity: EpollEventLoop.readBufferSize)
    /// NIO's stream channels also read at most 64 KiB at a time, which is what keeps
    /// bulk transfers ahead of HAProxy's 16 KiB buffers.
    public static let readBufferSize = 65536

    func takeReadBuffer() -> ByteBuffer {
        var buffer = readBuffer
        readBuffer = Self.emptyBuffer
        buffer.clear()
        if buffer.capacity < Self.readBufferSize {
            buffer = ByteBufferAllocator().buffer(capacity: Self.readBufferSize)
        }
        return buffer
    }

    func returnReadBuffer(_ buffer: ByteBuffer) {
        readBuffer = buffer
    }

    private static let emptyBuffer = ByteBufferAllocator().buffer(capacity: 0)

    /// Small buffers handed back by their owners, for bytes that must outlive a read
    /// (a request head kept until its response): taking one allocates nothing.
    private var spareBuffers: [ByteBuffer] = []
    private static let spareLimit = 256
    private static let spareMaximumCapacity = 16384

    /// An empty buffer of at least `capacity` bytes, from the spares when one is big
    /// enough. On the loop's thread only.
    public func borrowBuffer(capacity: Int) -> ByteBuffer {
        if var buffer = spareBuffers.popLast() {
            if buffer.capacity >= capacity {
                buffer.clear()
                return buffer
            }
            spareBuffers.append(buffer)
        }
        return ByteBufferAllocator().buffer(capacity: max(capacity, 512))
    }

    /// Takes the buffer out of `slot` and keeps it for `borrowBuffer` when nothing else
    /// holds its bytes (a write still queued, a slice kept elsewhere). On the loop's
    /// thread only.
    public func recycle(_ slot: inout ByteBuffer?) {
        guard var buffer = slot else { return }
        slot = nil
        // A slice (whose storage may be far larger) is not kept.
        guard spareBuffers.count < Self.spareLimit, buffer.storageCapacity <= Self.spareMaximumCapacity,
              buffer.capacity == buffer.storageCapacity, buffer.modifyIfUniquelyOwned({ _ in true }) == true else { return }
        spareBuffers.append(buffer)
    }

    // MARK: Timers

    /// Arms `timer` for `deadline` (or moves it there). On the loop's thread only.
    public func arm(_ timer: LoopTimer, at deadline: NIODeadline) {
        timers.arm(timer, at: deadline)
    }

    /// Disarms `timer`; nothing when it is not armed. On the loop's thread only.
    public func disarm(_ timer: LoopTimer) {
        timers.cancel(timer)
    }

    /// The timers armed now.
    public var armedTimers: Int { timers.count }

    // MARK: Tasks

    /// Runs `task` on the loop's thread, after the current event: from the loop's own
    /// thread without a lock or a wake-up.
    public func executeOnLoop(_ task: @escaping () -> Void) {
        tasks.append(task)
    }

    func executeRemotely(_ task: @escaping @Sendable () -> Void) {
        remoteTasks.withLockedValue { $0.append(task) }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            fulcrum_eventfd_signal(wakeFD)
        }
    }

    public var inEventLoop: Bool {
        pthread_self() == threadID.load(ordering: .relaxed)
    }

    /// On the loop's thread, the time its current turn started (timestamps of what
    /// happens in one turn are the same, and a dozen clock reads per request are
    /// spared); elsewhere the clock.
    public var now: NIODeadline {
        inEventLoop ? turnStarted : .now()
    }

    /// Which loop the calling thread runs, for work a loop batches without its caller
    /// knowing the loop (log lines sent once per turn).
    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create")
        return key
    }()

    /// The loop running on the calling thread; nil on any other thread.
    public static var current: EpollEventLoop? {
        pthread_getspecific(currentKey).map { Unmanaged<EpollEventLoop>.fromOpaque($0).takeUnretainedValue() }
    }

    // MARK: Running

    private func run() {
        threadID.store(pthread_self(), ordering: .releasing)
        // The thread holds the loop until `run` returns.
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(Self.currentKey, nil) }
        while !stopRequested.load(ordering: .relaxed) {
            let timeout: CInt
            if !tasks.isEmpty {
                timeout = 0
            } else if let earliest = timers.earliest {
                let current = NIODeadline.now()
                let wait = earliest.deadline.uptimeNanoseconds &- current.uptimeNanoseconds
                // Rounded up: waking a little early would spin until the deadline.
                timeout = earliest.deadline <= current ? 0 : CInt(clamping: (Int64(bitPattern: wait) + 999_999) / 1_000_000)
            } else {
                timeout = -1
            }
            let count = tags.withUnsafeMutableBufferPointer { tags in
                readiness.withUnsafeMutableBufferPointer { readiness in
                    fulcrum_epoll_wait_events(epoll, tags.baseAddress, readiness.baseAddress, CInt(Self.batch), timeout)
                }
            }
            turnStarted = .now()
            if count > 0 {
                for k in 0..<Int(count) { dispatch(tags[k], Readiness(rawValue: readiness[k])) }
                if !timers.isEmpty { turnStarted = .now() }
            }
            if !timers.isEmpty {
                while let timer = timers.popExpired(now: turnStarted) { timer.fire() }
            }
            runTasks()
        }
        stop()
    }

    private func dispatch(_ tag: UInt64, _ events: Readiness) {
        if tag == Self.wakeTag {
            fulcrum_eventfd_drain(wakeFD)
            wakePending.store(false, ordering: .releasing)
            let remote = remoteTasks.withLockedValue { queue -> [@Sendable () -> Void] in
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            for task in remote { tasks.append(task) }
            return
        }
        let index = Int(UInt32(truncatingIfNeeded: tag))
        guard index < slots.count, slots[index].generation == UInt32(truncatingIfNeeded: tag >> 32),
              let handler = slots[index].handler else { return }
        handler.ready(events)
    }

    /// Runs the tasks queued so far; those they queue run in the next turn, after the
    /// events that came meanwhile.
    private func runTasks() {
        guard !tasks.isEmpty else { return }
        swap(&tasks, &spareTasks)
        for task in spareTasks { task() }
        spareTasks.removeAll(keepingCapacity: true)
    }

    /// After the loop's last turn: what is still scheduled is cancelled, as NIO does.
    private func stop() {
        while let timer = timers.earliest {
            timers.cancel(timer)
            timer.cancelled?()
        }
        callbacks.removeAll()
        // What the last tasks queue (a session closing a turn later, the log lines it
        // writes) runs too, within reason.
        for _ in 0..<16 where !tasks.isEmpty { runTasks() }
        finished.lock()
        finished.unlock(withValue: true)
    }

    /// Asks the loop to stop after its current turn.
    func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
        fulcrum_eventfd_signal(wakeFD)
    }

    /// Blocks until the loop's thread has stopped.
    func waitUntilStopped() {
        finished.lock(whenValue: true)
        finished.unlock()
    }
}
#endif
