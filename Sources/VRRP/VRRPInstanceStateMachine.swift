import KeepalivedConfig

/// One VRRP instance (RFC 3768 §6.4, RFC 5798 §6.4) as keepalived runs it: Init,
/// Backup, Master, Fault. Pure: each input takes `now` and returns the actions the
/// daemon carries out (packets, addresses, ARP, timers as deadlines, transitions for
/// logs and notify scripts).
public struct VRRPInstanceStateMachine: Sendable {
    public enum State: String, Hashable, Sendable {
        case initialize = "INIT", backup = "BACKUP", master = "MASTER", fault = "FAULT", stopped = "STOP"
    }

    public enum Timer: String, Hashable, Sendable, CaseIterable {
        /// Backup: no advert from a master for Master_Down_Interval (or Skew_Time after priority 0).
        case masterDown
        /// Master: time for the next advert.
        case advert
        /// Master: the second gratuitous ARP burst, `garp_master_delay` after taking over.
        case garpRepeat
        /// Master: periodic gratuitous ARPs (`garp_master_refresh`).
        case garpRefresh
    }

    public enum Action: Hashable, Sendable {
        case sendAdvert(priority: UInt8)
        case addAddresses
        case removeAddresses
        /// `count` gratuitous ARPs (unsolicited NAs for IPv6) per virtual address.
        case announceAddresses(count: Int)
        case arm(Timer, at: VRRPInstant)
        case cancel(Timer)
        case transition(from: State, to: State)
    }

    public struct Configuration: Hashable, Sendable {
        public var version: Int
        public var basePriority: Int
        public var advertIntervalCentiseconds: Int
        public var preempt: Bool
        public var preemptDelayNanoseconds: Int64
        /// Our own primary address: breaks ties between equal priorities.
        public var localAddress: IPAddress
        public var garpMasterDelaySeconds: Int
        public var garpMasterRepeat: Int
        public var garpMasterRefreshSeconds: Int
        public var garpMasterRefreshRepeat: Int
        public var higherPrioritySendAdvert: Bool
        public var lowerPriorityNoAdvert: Bool
        public var garpLowerPriorityRepeat: Int

        public init(version: Int = 2, basePriority: Int = 100, advertIntervalCentiseconds: Int = 100, preempt: Bool = true, preemptDelayNanoseconds: Int64 = 0,
                    localAddress: IPAddress, garpMasterDelaySeconds: Int = 5, garpMasterRepeat: Int = 5, garpMasterRefreshSeconds: Int = 0,
                    garpMasterRefreshRepeat: Int = 1, higherPrioritySendAdvert: Bool = false, lowerPriorityNoAdvert: Bool = false, garpLowerPriorityRepeat: Int = 5) {
            self.version = version
            self.basePriority = basePriority
            self.advertIntervalCentiseconds = advertIntervalCentiseconds
            self.preempt = preempt
            self.preemptDelayNanoseconds = preemptDelayNanoseconds
            self.localAddress = localAddress
            self.garpMasterDelaySeconds = garpMasterDelaySeconds
            self.garpMasterRepeat = garpMasterRepeat
            self.garpMasterRefreshSeconds = garpMasterRefreshSeconds
            self.garpMasterRefreshRepeat = garpMasterRefreshRepeat
            self.higherPrioritySendAdvert = higherPrioritySendAdvert
            self.lowerPriorityNoAdvert = lowerPriorityNoAdvert
            self.garpLowerPriorityRepeat = garpLowerPriorityRepeat
        }
    }

    public private(set) var configuration: Configuration
    public private(set) var state: State = .initialize
    /// Base priority moved by tracked weights (`TrackedPriority`).
    public private(set) var priority: Int
    public private(set) var faulted = false
    /// The interval the current master advertises (v3 backups use it, RFC 5798 §6.4.2).
    public private(set) var masterAdvertIntervalCentiseconds: Int
    /// The last master heard from, for the data dump.
    public private(set) var masterAddress: IPAddress?
    /// While set and in the future, lower-priority masters are tolerated (`preempt_delay`).
    private var preemptDeadline: VRRPInstant?

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.priority = configuration.basePriority
        self.masterAdvertIntervalCentiseconds = configuration.advertIntervalCentiseconds
    }

    public var isOwner: Bool { priority == 255 }

    // MARK: - timers from the RFCs

    /// v2: (256 − priority)/256 s, not scaled by the interval; v3: scaled by the master's interval.
    public var skewTimeNanoseconds: Int64 {
        let p = Int64(256 - priority)
        if configuration.version == 3 {
            return p * Int64(masterAdvertIntervalCentiseconds) * 10_000_000 / 256
        }
        return p * 1_000_000_000 / 256
    }

    public var masterDownIntervalNanoseconds: Int64 {
        3 * Int64(masterAdvertIntervalCentiseconds) * 10_000_000 + skewTimeNanoseconds
    }

    var advertIntervalNanoseconds: Int64 { Int64(configuration.advertIntervalCentiseconds) * 10_000_000 }

    var advertPriority: UInt8 { UInt8(priority) }

    // MARK: - inputs

    /// Start-up. Below 255, `state MASTER` is only a hint, as in keepalived: the instance
    /// listens for Master_Down_Interval first, so a restarted node never fights a master.
    public mutating func start(now: VRRPInstant) -> [Action] {
        guard state == .initialize || state == .stopped else { return [] }
        if configuration.preemptDelayNanoseconds > 0 { preemptDeadline = now + configuration.preemptDelayNanoseconds }
        if faulted { return enter(.fault) }
        if isOwner { return becomeMaster(now: now) }
        return becomeBackup(now: now)
    }

    public mutating func advertReceived(_ ad: VRRPAdvertisement, from source: IPAddress, now: VRRPInstant) -> [Action] {
        switch state {
        case .backup:
            masterAddress = source
            if ad.priority == 0 {
                return [.arm(.masterDown, at: now + skewTimeNanoseconds)]
            }
            let higherOrEqual = Int(ad.priority) >= priority
            if higherOrEqual, let d = preemptDeadline, now >= d { preemptDeadline = nil }
            var tolerate = !configuration.preempt || higherOrEqual
            if !tolerate && configuration.preemptDelayNanoseconds > 0 {
                if preemptDeadline == nil { preemptDeadline = now + configuration.preemptDelayNanoseconds }
                if let d = preemptDeadline, now < d { tolerate = true }
            }
            guard tolerate else { return [] }
            if configuration.version == 3 { masterAdvertIntervalCentiseconds = ad.advertIntervalCentiseconds }
            return [.arm(.masterDown, at: now + masterDownIntervalNanoseconds)]
        case .master:
            if ad.priority == 0 {
                return [.sendAdvert(priority: advertPriority), .arm(.advert, at: now + advertIntervalNanoseconds)]
            }
            let theirs = Int(ad.priority)
            if theirs > priority || (theirs == priority && source > configuration.localAddress) {
                var actions: [Action] = []
                if configuration.higherPrioritySendAdvert { actions.append(.sendAdvert(priority: advertPriority)) }
                if configuration.version == 3 { masterAdvertIntervalCentiseconds = ad.advertIntervalCentiseconds }
                masterAddress = source
                return actions + leaveMaster(to: .backup, now: now)
            }
            // A lower-priority master: it has not heard us (a healed split brain).
            // Answer at once and repeat the ARPs, so both it and the hosts converge on us.
            var actions: [Action] = []
            if !configuration.lowerPriorityNoAdvert {
                actions += [.sendAdvert(priority: advertPriority), .arm(.advert, at: now + advertIntervalNanoseconds)]
            }
            if configuration.garpLowerPriorityRepeat > 0 { actions.append(.announceAddresses(count: configuration.garpLowerPriorityRepeat)) }
            return actions
        case .initialize, .fault, .stopped:
            return []
        }
    }

    public mutating func timerFired(_ timer: Timer, now: VRRPInstant) -> [Action] {
        switch (state, timer) {
        case (.backup, .masterDown):
            return becomeMaster(now: now)
        case (.master, .advert):
            return [.sendAdvert(priority: advertPriority), .arm(.advert, at: now + advertIntervalNanoseconds)]
        case (.master, .garpRepeat):
            return [.announceAddresses(count: configuration.garpMasterRepeat)]
        case (.master, .garpRefresh):
            return [.announceAddresses(count: configuration.garpMasterRefreshRepeat),
                    .arm(.garpRefresh, at: now + Int64(configuration.garpMasterRefreshSeconds) * 1_000_000_000)]
        default:
            return []
        }
    }

    /// New effective priority or fault from the tracked items (see `TrackedPriority`).
    public mutating func trackingChanged(priority newPriority: Int, fault: Bool, now: VRRPInstant) -> [Action] {
        let oldPriority = priority
        priority = newPriority
        faulted = fault
        switch state {
        case .initialize, .stopped:
            return []
        case .fault:
            guard !fault else { return [] }
            if isOwner { return becomeMaster(now: now) }
            return becomeBackup(now: now)
        case .master:
            if fault {
                // keepalived tells the others at once instead of letting them wait for
                // Master_Down_Interval.
                return [.sendAdvert(priority: 0)] + leaveMaster(to: .fault, now: now)
            }
            return []
        case .backup:
            if fault { return [.cancel(.masterDown)] + enter(.fault) }
            if newPriority == 255 && oldPriority != 255 { return becomeMaster(now: now) }
            return []
        }
    }

    /// Another member of this instance's sync group became master: keepalived moves the
    /// whole group, so a backup follows at once.
    public mutating func groupMemberBecameMaster(now: VRRPInstant) -> [Action] {
        guard state == .backup else { return [] }
        return becomeMaster(now: now)
    }

    /// Another member of the sync group left master for backup: a master follows.
    public mutating func groupMemberBecameBackup(now: VRRPInstant) -> [Action] {
        guard state == .master else { return [] }
        return leaveMaster(to: .backup, now: now)
    }

    /// A reload that keeps the wire identity (VRID, version, interval): new base priority,
    /// preemption and ARP settings, the state kept. The new priority arrives through
    /// `trackingChanged`, like any other priority change.
    public mutating func reconfigure(_ new: Configuration) {
        configuration = new
    }

    /// SIGTERM: a master sends priority 0 so a backup takes over after Skew_Time only.
    public mutating func shutdown(now: VRRPInstant) -> [Action] {
        var actions: [Action] = []
        if state == .master {
            actions += [.sendAdvert(priority: 0), .removeAddresses]
        }
        actions += Timer.allCases.map { .cancel($0) }
        actions += enter(.stopped)
        return actions
    }

    // MARK: - transitions

    private mutating func enter(_ next: State) -> [Action] {
        let previous = state
        state = next
        return previous == next ? [] : [.transition(from: previous, to: next)]
    }

    private mutating func becomeBackup(now: VRRPInstant) -> [Action] {
        masterAdvertIntervalCentiseconds = configuration.advertIntervalCentiseconds
        return enter(.backup) + [.arm(.masterDown, at: now + masterDownIntervalNanoseconds)]
    }

    private mutating func becomeMaster(now: VRRPInstant) -> [Action] {
        preemptDeadline = nil
        masterAddress = configuration.localAddress
        var actions = enter(.master)
        actions += [.cancel(.masterDown), .sendAdvert(priority: advertPriority), .addAddresses,
                    .announceAddresses(count: configuration.garpMasterRepeat),
                    .arm(.advert, at: now + advertIntervalNanoseconds)]
        if configuration.garpMasterDelaySeconds > 0 {
            actions.append(.arm(.garpRepeat, at: now + Int64(configuration.garpMasterDelaySeconds) * 1_000_000_000))
        }
        if configuration.garpMasterRefreshSeconds > 0 {
            actions.append(.arm(.garpRefresh, at: now + Int64(configuration.garpMasterRefreshSeconds) * 1_000_000_000))
        }
        return actions
    }

    private mutating func leaveMaster(to next: State, now: VRRPInstant) -> [Action] {
        var actions: [Action] = [.cancel(.advert), .cancel(.garpRepeat), .cancel(.garpRefresh), .removeAddresses]
        if next == .backup {
            actions = enter(.backup) + actions + [.arm(.masterDown, at: now + masterDownIntervalNanoseconds)]
        } else {
            actions = enter(next) + actions
        }
        return actions
    }
}
