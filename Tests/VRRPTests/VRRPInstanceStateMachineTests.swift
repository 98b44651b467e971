import Testing
import KeepalivedConfig
@testable import VRRP

typealias Machine = VRRPInstanceStateMachine

let me = IPAddress("10.99.0.12")!
let higherPeer = IPAddress("10.99.0.13")!
let lowerPeer = IPAddress("10.99.0.11")!

func t(_ s: Double) -> VRRPInstant { .seconds(s) }

func advert(_ priority: UInt8, version: UInt8 = 2, interval: UInt16 = 1) -> VRRPAdvertisement {
    VRRPAdvertisement(version: version, virtualRouterID: 47, priority: priority, advertInterval: interval, addresses: [IPAddress("10.99.0.50")!])
}

func machine(priority: Int = 111, version: Int = 2, interval: Int = 100, preempt: Bool = true, preemptDelay: Double = 0,
             higherPrioSendAdvert: Bool = false) -> Machine {
    Machine(configuration: .init(version: version, basePriority: priority, advertIntervalCentiseconds: interval, preempt: preempt,
                                 preemptDelayNanoseconds: Int64(preemptDelay * 1e9), localAddress: me, higherPrioritySendAdvert: higherPrioSendAdvert))
}

/// The instance's deadline for a timer among actions, if armed.
func deadline(_ timer: Machine.Timer, _ actions: [Machine.Action]) -> VRRPInstant? {
    for case .arm(let t, let at) in actions where t == timer { return at }
    return nil
}

@Suite struct VRRPInstanceStateMachineTests {
    @Test func timersFollowTheRFCs() {
        // v2: Skew_Time is not scaled by the interval (keepalived's 3.566 s for 111 at advert_int 1 and 9.566 s at 3).
        var m = machine(priority: 111)
        #expect(m.skewTimeNanoseconds == 566_406_250)
        #expect(m.masterDownIntervalNanoseconds == 3_566_406_250)
        m = machine(priority: 111, interval: 300)
        #expect(m.masterDownIntervalNanoseconds == 9_566_406_250)
        // v3 scales it, and uses the master's interval once heard.
        var v3 = machine(priority: 111, version: 3, interval: 100)
        #expect(v3.skewTimeNanoseconds == 566_406_250)
        _ = v3.start(now: t(0))
        _ = v3.advertReceived(advert(112, version: 3, interval: 50), from: higherPeer, now: t(1))
        #expect(v3.masterAdvertIntervalCentiseconds == 50)
        #expect(v3.skewTimeNanoseconds == 283_203_125)
        #expect(v3.masterDownIntervalNanoseconds == 1_783_203_125)
    }

    @Test func startsAsBackupAndTakesOverAfterMasterDownInterval() {
        var m = machine(priority: 112)
        let start = m.start(now: t(10))
        #expect(m.state == .backup)
        #expect(start == [.transition(from: .initialize, to: .backup), .arm(.masterDown, at: t(10) + 3_562_500_000)])
        // Nothing happens before the deadline arrives; the daemon only fires armed timers.
        let up = m.timerFired(.masterDown, now: t(13.5625))
        #expect(m.state == .master)
        #expect(up == [.transition(from: .backup, to: .master), .cancel(.masterDown), .sendAdvert(priority: 112), .addAddresses,
                       .announceAddresses(count: 5), .arm(.advert, at: t(14.5625)), .arm(.garpRepeat, at: t(18.5625))])
        #expect(m.timerFired(.advert, now: t(14.5625)) == [.sendAdvert(priority: 112), .arm(.advert, at: t(15.5625))])
        #expect(m.timerFired(.garpRepeat, now: t(18.5625)) == [.announceAddresses(count: 5)])
        // Stale timers after a state change do nothing.
        #expect(m.timerFired(.masterDown, now: t(20)) == [])
    }

    @Test func addressOwnerIsMasterAtOnce() {
        var m = machine(priority: 255)
        let actions = m.start(now: t(0))
        #expect(m.state == .master)
        #expect(actions.contains(.sendAdvert(priority: 255)) && actions.contains(.addAddresses))
    }

    @Test func backupResetsOnHigherOrEqualAndIgnoresLowerWhenPreempting() {
        var m = machine(priority: 111)
        _ = m.start(now: t(0))
        #expect(deadline(.masterDown, m.advertReceived(advert(112), from: higherPeer, now: t(1))) == t(1) + 3_566_406_250)
        #expect(deadline(.masterDown, m.advertReceived(advert(111), from: higherPeer, now: t(2))) == t(2) + 3_566_406_250)
        // A lower-priority master is not reset: the timer armed at 2 s runs out and we preempt.
        #expect(m.advertReceived(advert(102), from: lowerPeer, now: t(3)) == [])
        #expect(m.timerFired(.masterDown, now: t(5.57)).contains(.addAddresses))
    }

    @Test func nopreemptKeepsALowerPriorityMaster() {
        var m = machine(priority: 111, preempt: false)
        _ = m.start(now: t(0))
        #expect(deadline(.masterDown, m.advertReceived(advert(50), from: lowerPeer, now: t(1))) == t(1) + 3_566_406_250)
        #expect(m.state == .backup)
    }

    @Test func preemptDelayToleratesALowerMasterForAWhile() {
        var m = machine(priority: 111, preemptDelay: 10)
        _ = m.start(now: t(0))
        // Within 10 s of start-up the lower master is treated as legitimate.
        #expect(deadline(.masterDown, m.advertReceived(advert(50), from: lowerPeer, now: t(1))) != nil)
        #expect(deadline(.masterDown, m.advertReceived(advert(50), from: lowerPeer, now: t(9.9))) != nil)
        // Then it is ignored, and the Master_Down timer wins.
        #expect(m.advertReceived(advert(50), from: lowerPeer, now: t(10.5)) == [])
    }

    @Test func priorityZeroMeansTakeOverAfterSkewTime() {
        var m = machine(priority: 111)
        _ = m.start(now: t(0))
        #expect(m.advertReceived(advert(0), from: higherPeer, now: t(1)) == [.arm(.masterDown, at: t(1) + 566_406_250)])
        // A master answers a priority-0 advert with an advert of its own at once.
        var master = machine(priority: 255)
        _ = master.start(now: t(0))
        #expect(master.advertReceived(advert(0), from: lowerPeer, now: t(0.3)) == [.sendAdvert(priority: 255), .arm(.advert, at: t(1.3))])
    }

    @Test func masterStepsDownForHigherPriorityOrEqualPriorityWithHigherAddress() {
        for (priority, source) in [(UInt8(120), lowerPeer), (UInt8(111), higherPeer)] {
            var m = machine(priority: 111)
            _ = m.start(now: t(0))
            _ = m.timerFired(.masterDown, now: t(4))
            let actions = m.advertReceived(advert(priority), from: source, now: t(5))
            #expect(m.state == .backup)
            #expect(actions == [.transition(from: .master, to: .backup), .cancel(.advert), .cancel(.garpRepeat), .cancel(.garpRefresh),
                                .removeAddresses, .arm(.masterDown, at: t(5) + 3_566_406_250)])
        }
        // Equal priority from a lower address: we stay, and answer.
        var m = machine(priority: 111)
        _ = m.start(now: t(0))
        _ = m.timerFired(.masterDown, now: t(4))
        #expect(m.advertReceived(advert(111), from: lowerPeer, now: t(5)) == [.sendAdvert(priority: 111), .arm(.advert, at: t(6)), .announceAddresses(count: 5)])
        #expect(m.state == .master)
    }

    @Test func higherPrioSendAdvertAnswersBeforeSteppingDown() {
        var m = machine(priority: 111, higherPrioSendAdvert: true)
        _ = m.start(now: t(0))
        _ = m.timerFired(.masterDown, now: t(4))
        let actions = m.advertReceived(advert(112), from: higherPeer, now: t(5))
        #expect(actions.first == .sendAdvert(priority: 111))
        #expect(m.state == .backup)
    }

    @Test func trackedFaultAndRecovery() {
        var m = machine(priority: 111)
        _ = m.start(now: t(0))
        _ = m.timerFired(.masterDown, now: t(4))
        let fault = m.trackingChanged(priority: 111, fault: true, now: t(6))
        #expect(m.state == .fault)
        #expect(fault == [.sendAdvert(priority: 0), .transition(from: .master, to: .fault), .cancel(.advert), .cancel(.garpRepeat),
                          .cancel(.garpRefresh), .removeAddresses])
        #expect(m.advertReceived(advert(1), from: lowerPeer, now: t(7)) == [])
        #expect(m.timerFired(.masterDown, now: t(8)) == [])
        let back = m.trackingChanged(priority: 111, fault: false, now: t(9))
        #expect(m.state == .backup)
        #expect(back == [.transition(from: .fault, to: .backup), .arm(.masterDown, at: t(9) + 3_566_406_250)])
    }

    @Test func failedTrackScriptLowersTheAdvertisedPriority() {
        var m = machine(priority: 112)
        _ = m.start(now: t(0))
        _ = m.timerFired(.masterDown, now: t(4))
        #expect(m.trackingChanged(priority: 102, fault: false, now: t(5)) == [])
        #expect(m.timerFired(.advert, now: t(5.1)).first == .sendAdvert(priority: 102))
        // The backup at 111 hears 102 and lets its Master_Down timer run out.
        var backup = machine(priority: 111)
        _ = backup.start(now: t(0))
        #expect(backup.advertReceived(advert(102), from: lowerPeer, now: t(5.1)) == [])
    }

    @Test func startInFaultWhenATrackedItemIsDown() {
        var m = machine(priority: 111)
        _ = m.trackingChanged(priority: 111, fault: true, now: t(0))
        #expect(m.start(now: t(0)) == [.transition(from: .initialize, to: .fault)])
    }

    @Test func syncGroupMembersFollowEachOther() {
        var m = machine(priority: 100)
        _ = m.start(now: t(0))
        let up = m.groupMemberBecameMaster(now: t(1))
        #expect(m.state == .master && up.contains(.addAddresses) && up.contains(.sendAdvert(priority: 100)))
        #expect(m.groupMemberBecameMaster(now: t(2)) == [])
        let down = m.groupMemberBecameBackup(now: t(3))
        #expect(m.state == .backup && down.contains(.removeAddresses))
        #expect(deadline(.masterDown, down) == t(3) + m.masterDownIntervalNanoseconds)
        // A member in FAULT is not pulled out of it.
        _ = m.trackingChanged(priority: 100, fault: true, now: t(4))
        #expect(m.groupMemberBecameMaster(now: t(5)) == [])
        #expect(m.state == .fault)
    }

    @Test func reconfigureKeepsTheState() {
        var m = machine(priority: 112)
        _ = m.start(now: t(0))
        _ = m.timerFired(.masterDown, now: t(4))
        var c = m.configuration
        c.basePriority = 95
        c.preempt = false
        m.reconfigure(c)
        #expect(m.state == .master && m.configuration.basePriority == 95)
        #expect(m.trackingChanged(priority: 105, fault: false, now: t(5)) == [])
        #expect(m.timerFired(.advert, now: t(5)).first == .sendAdvert(priority: 105))
    }

    @Test func shutdownSendsPriorityZeroAndRemovesAddresses() {
        var m = machine(priority: 111)
        _ = m.start(now: t(0))
        _ = m.timerFired(.masterDown, now: t(4))
        let actions = m.shutdown(now: t(10))
        #expect(Array(actions.prefix(2)) == [.sendAdvert(priority: 0), .removeAddresses])
        #expect(actions.last == .transition(from: .master, to: .stopped))
        var backup = machine(priority: 111)
        _ = backup.start(now: t(0))
        #expect(!backup.shutdown(now: t(1)).contains(.sendAdvert(priority: 0)))
    }
}

@Suite struct TrackedPriorityTests {
    @Test func weightsAsKeepalivedAppliesThem() {
        // Seed 002: base 102, script weight 10: 112 healthy, 102 failed.
        #expect(TrackedPriority.evaluate(base: 102, items: [.status(up: true, weight: TrackWeight(10))]) == (112, false))
        #expect(TrackedPriority.evaluate(base: 102, items: [.status(up: false, weight: TrackWeight(10))]) == (102, false))
        // Negative weights subtract while down.
        #expect(TrackedPriority.evaluate(base: 100, items: [.status(up: true, weight: TrackWeight(-20))]) == (100, false))
        #expect(TrackedPriority.evaluate(base: 100, items: [.status(up: false, weight: TrackWeight(-20))]) == (80, false))
        // reverse: counted as if the item's state were the opposite.
        #expect(TrackedPriority.evaluate(base: 100, items: [.status(up: false, weight: TrackWeight(10, reverse: true))]) == (110, false))
        #expect(TrackedPriority.evaluate(base: 100, items: [.status(up: true, weight: TrackWeight(-10, reverse: true))]) == (90, false))
        // No weight (or 0): FAULT while down; with reverse, while up.
        #expect(TrackedPriority.evaluate(base: 100, items: [.status(up: false, weight: nil)]).fault)
        #expect(!TrackedPriority.evaluate(base: 100, items: [.status(up: true, weight: TrackWeight(0))]).fault)
        #expect(TrackedPriority.evaluate(base: 100, items: [.status(up: true, weight: TrackWeight(0, reverse: true))]).fault)
        // Clamped to 1...254; the owner is not moved.
        #expect(TrackedPriority.evaluate(base: 250, items: [.status(up: true, weight: TrackWeight(10))]).priority == 254)
        #expect(TrackedPriority.evaluate(base: 5, items: [.status(up: false, weight: TrackWeight(-10))]).priority == 1)
        #expect(TrackedPriority.evaluate(base: 255, items: [.status(up: false, weight: TrackWeight(-10))]).priority == 255)
        // Files: value times weight; weight 0 and a non-zero value is a fault.
        #expect(TrackedPriority.evaluate(base: 100, items: [.file(value: 3, weight: TrackWeight(-5))]) == (85, false))
        #expect(TrackedPriority.evaluate(base: 100, items: [.file(value: 3, weight: TrackWeight(5, reverse: true))]) == (85, false))
        #expect(TrackedPriority.evaluate(base: 100, items: [.file(value: 1, weight: TrackWeight(0))]).fault)
        #expect(TrackedPriority.evaluate(base: 100, items: [.file(value: -300, weight: TrackWeight(1))]).fault)
    }
}

@Suite struct VRRPInstanceStateMachineInvariantTests {
    /// Random inputs in random order: the machine never crashes, holds the addresses
    /// exactly while it is master, only arms timers that belong to its state, and only
    /// ever sends priority 0 or its own priority.
    @Test func randomInputsKeepTheInvariants() {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<300 {
            var m = machine(priority: Int.random(in: 1...255, using: &rng), version: Bool.random(using: &rng) ? 2 : 3,
                            preempt: Bool.random(using: &rng), preemptDelay: Bool.random(using: &rng) ? 0 : 2,
                            higherPrioSendAdvert: Bool.random(using: &rng))
            var now = 0.0
            var holding = false
            var armed: Set<Machine.Timer> = []
            func apply(_ actions: [Machine.Action]) {
                for a in actions {
                    switch a {
                    case .addAddresses: holding = true
                    case .removeAddresses: holding = false
                    case .arm(let timer, let at):
                        armed.insert(timer)
                        #expect(at >= t(now), "round \(round): timer in the past")
                    case .cancel(let timer): armed.remove(timer)
                    case .sendAdvert(let p): #expect(p == 0 || Int(p) == m.priority, "round \(round)")
                    default: break
                    }
                }
            }
            apply(m.start(now: t(now)))
            for _ in 0..<60 {
                now += Double.random(in: 0...2, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0:
                    let source = [lowerPeer, higherPeer, me].randomElement(using: &rng)!
                    apply(m.advertReceived(advert(UInt8.random(in: 0...255, using: &rng), version: UInt8(m.configuration.version)), from: source, now: t(now)))
                case 1:
                    if let timer = armed.randomElement(using: &rng) {
                        armed.remove(timer)
                        apply(m.timerFired(timer, now: t(now)))
                    }
                case 2:
                    apply(m.trackingChanged(priority: Int.random(in: 1...254, using: &rng), fault: Int.random(in: 0..<4, using: &rng) == 0, now: t(now)))
                case 3:
                    apply(m.timerFired(Machine.Timer.allCases.randomElement(using: &rng)!, now: t(now)))
                default:
                    apply(Bool.random(using: &rng) ? m.groupMemberBecameMaster(now: t(now)) : m.groupMemberBecameBackup(now: t(now)))
                }
                #expect(holding == (m.state == .master), "round \(round): addresses held \(holding) in \(m.state)")
                if m.state == .backup { #expect(!armed.contains(.advert)) }
                if m.state == .fault { #expect(!armed.contains(.masterDown) && !armed.contains(.advert)) }
            }
            apply(m.shutdown(now: t(now + 1)))
            #expect(!holding && m.state == .stopped)
        }
    }
}
