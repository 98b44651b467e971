import Testing
@testable import FulcrumCore

@Suite struct ServerSlotsTests {
    func slots(_ maxconn: [Int?]) -> ServerSlots<RoundRobinBalancer> {
        ServerSlots(balancer: RoundRobinBalancer(servers: maxconn.map { _ in (1, false) }), maxconn: maxconn)
    }

    @Test func fullServersAreSkippedAndTheRotationGoesOn() {
        var s = slots([1, nil])
        let r1 = s.acquire(1, excluding: [])
        #expect(r1 == .granted(0))
        let r2 = s.acquire(2, excluding: [])
        #expect(r2 == .granted(1))
        let r3 = s.acquire(3, excluding: [])
        #expect(r3 == .granted(1), "server 0 is full: its turn goes to server 1")
        #expect(s.served == [1, 2])
    }

    @Test func whenEveryServerIsFullRequestsQueueAndTakeFreedSlotsInOrder() {
        var s = slots([1, 1])
        let r4 = s.acquire(1, excluding: [])
        #expect(r4 == .granted(0))
        let r5 = s.acquire(2, excluding: [])
        #expect(r5 == .granted(1))
        let r6 = s.acquire(3, excluding: [])
        #expect(r6 == .queued)
        let r7 = s.acquire(4, excluding: [])
        #expect(r7 == .queued)
        #expect(s.queueLength == 2)
        let r8 = s.release(1)
        #expect(r8 == 3, "the first waiter takes the freed slot")
        #expect(s.served == [1, 1])
        let r9 = s.release(0)
        #expect(r9 == 4)
        let r10 = s.release(0)
        #expect(r10 == nil)
        #expect(s.served == [0, 1])
    }

    @Test func waitersSkipSlotsOnServersTheyMayNotUse() {
        var s = slots([1, 1])
        _ = s.acquire(1, excluding: [])
        _ = s.acquire(2, excluding: [])
        let r11 = s.acquire(3, excluding: [0])
        #expect(r11 == .queued, "server 0 just failed for this request")
        let r12 = s.acquire(4, excluding: [])
        #expect(r12 == .queued)
        let r13 = s.release(0)
        #expect(r13 == 4)
        let r14 = s.release(1)
        #expect(r14 == 3)
    }

    @Test func cancelledWaitersLeaveTheQueue() {
        var s = slots([1])
        _ = s.acquire(1, excluding: [])
        let r15 = s.acquire(2, excluding: [])
        #expect(r15 == .queued)
        let r16 = s.cancel(2)
        #expect(r16)
        let r17 = s.cancel(2)
        #expect(!r17, "already gone")
        let r18 = s.release(0)
        #expect(r18 == nil)
        #expect(s.served == [0])
    }

    @Test func noUsableServerIsNotAQueue() {
        var s = slots([1])
        let r19 = s.acquire(1, excluding: [0])
        #expect(r19 == .noServer)
        var down = ServerSlots(balancer: RoundRobinBalancer(servers: [(1, false)]), maxconn: [nil])
        _ = down.setUsable(0, false)
        let r20 = down.acquire(1, excluding: [])
        #expect(r20 == .noServer)
    }

    @Test func fullActiveServersQueueRatherThanSpillOntoBackups() {
        var s = ServerSlots(balancer: RoundRobinBalancer(servers: [(1, false), (1, true)]), maxconn: [1, nil], backup: [false, true])
        let first = s.acquire(1, excluding: [])
        #expect(first == .granted(0))
        let second = s.acquire(2, excluding: [])
        #expect(second == .queued, "the active server is full: wait for it, do not use the backup")
        _ = s.setUsable(0, false)
        let third = s.acquire(3, excluding: [])
        #expect(third == .granted(1), "no active server is usable: the backup serves")
        let handed = s.setUsable(0, true)
        #expect(handed == [], "the active server is back but still full")
        let freed = s.release(0)
        #expect(freed == 2, "its freed slot goes to the waiter")
    }

    @Test func aRaisedMaxconnTakesQueuedRequests() {
        var s = slots([1])
        _ = s.acquire(1, excluding: [])
        let queued = s.acquire(2, excluding: [])
        #expect(queued == .queued)
        let granted = s.setMaxconn(0, 2)
        #expect(granted == [2])
        #expect(s.served == [2])
    }

    @Test func weightBackFromZeroTakesQueuedRequests() {
        var s = ServerSlots(balancer: RoundRobinBalancer(servers: [(1, false), (1, false)]), maxconn: [1, 1])
        _ = s.acquire(1, excluding: [])
        _ = s.setWeight(1, 0)
        let queued = s.acquire(2, excluding: [])
        #expect(queued == .queued, "the only server with weight is full")
        let granted = s.setWeight(1, 1)
        #expect(granted == [2], "the server back from drain takes the waiter")
    }

    @Test func persistentRequestsReachADrainedServer() {
        var s = ServerSlots(balancer: RoundRobinBalancer(servers: [(1, false), (1, false)]), maxconn: [1, nil])
        _ = s.setWeight(0, 0)
        let sticky = s.acquire(1, only: 0)
        #expect(sticky == .granted(0), "drained, but persistence still reaches it")
        let full = s.acquire(2, only: 0)
        #expect(full == .queued)
        _ = s.setUsable(1, false)
        let down = s.acquire(3, only: 1)
        #expect(down == .noServer, "a DOWN server is not used for persistence")
    }
}
