/// The parts of a keepalived.conf that `fulcrum-vrrp` runs, after every keyword has been
/// checked. Names of scripts, track files and processes are resolved by the parser, so an
/// instance's references always point at something that exists.
public struct KeepalivedConfiguration: Hashable, Sendable {
    public var global = GlobalDefinitions()
    public var scripts: [String: TrackScriptDefinition] = [:]
    public var trackFiles: [String: TrackFileDefinition] = [:]
    public var trackProcesses: [String: TrackProcessDefinition] = [:]
    public var instances: [VRRPInstanceConfig] = []
    public var syncGroups: [SyncGroupConfig] = []
    /// Every file read, the includes included, in reading order.
    public var files: [String] = []

    public init() {}
}

/// `global_defs`: the defaults every instance inherits, and switches accepted for
/// compatibility.
public struct GlobalDefinitions: Hashable, Sendable {
    public var routerID: String?
    public var enableScriptSecurity = false
    /// `script_user USER [GROUP]`: whom scripts run as unless they name their own user.
    public var scriptUser: ScriptRunAs?
    public var scriptUserLocation: SourceLocation?
    public var vrrpVersion = 2
    public var garpMasterDelay = 5
    public var garpMasterRepeat = 5
    public var garpMasterRefresh = 0
    public var garpMasterRefreshRepeat = 1
    /// Microseconds between gratuitous ARPs of one burst (keepalived takes seconds with decimals).
    public var garpIntervalMicroseconds = 0
    public var gnaIntervalMicroseconds = 0
    public var higherPrioritySendAdvert = false
    public var lowerPriorityNoAdvert = false
    public var garpLowerPriorityRepeat = 5
    public var strict = false
    public var mcastGroup4 = IPAddress(v4: 224, 0, 0, 18)
    public var mcastGroup6 = IPAddress("ff02::12")!

    public init() {}
}

/// A received TTL/hop limit range, `min_ttl`...`max_ttl` (either may be omitted).
public struct TTLRange: Hashable, Sendable {
    public var min: Int
    public var max: Int
    public init(min: Int = 0, max: Int = 255) {
        self.min = min
        self.max = max
    }
    public func contains(_ ttl: UInt8) -> Bool { Int(ttl) >= min && Int(ttl) <= max }
}

/// `USER [GROUP]` after a script: run it as that user, with that group (default: the
/// user's own group).
public struct ScriptRunAs: Hashable, Sendable {
    public var user: String
    public var group: String?
    public init(user: String, group: String? = nil) {
        self.user = user
        self.group = group
    }
}

/// A weight as keepalived writes it on a tracked item: `weight N [reverse]`.
public struct TrackWeight: Hashable, Sendable {
    public var value: Int
    public var reverse: Bool
    public init(_ value: Int, reverse: Bool = false) {
        self.value = value
        self.reverse = reverse
    }
}

/// `vrrp_script NAME { ... }`.
public struct TrackScriptDefinition: Hashable, Sendable {
    public var name: String
    public var script: String = ""
    public var intervalSeconds: Double = 1
    /// nil: keepalived's default, the interval.
    public var timeoutSeconds: Double?
    public var weight = TrackWeight(0)
    public var rise = 1
    public var fall = 1
    public var user: ScriptRunAs?
    /// Where `user` was given (the config test points there, as keepalived's does).
    public var userLocation: SourceLocation?
    /// `init_fail`: start in the failed state instead of keepalived's default (good
    /// until the first result).
    public var initFail = false
    public var location: SourceLocation

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    public var effectiveTimeoutSeconds: Double { timeoutSeconds ?? intervalSeconds }
}

/// `vrrp_track_file NAME { file PATH; weight N [reverse] }`: the file holds a number.
public struct TrackFileDefinition: Hashable, Sendable {
    public var name: String
    public var path: String = ""
    public var weight = TrackWeight(1)
    public var initValue: Int?
    public var location: SourceLocation

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// `vrrp_track_process NAME { process NAME [PARAM...]; ... }`: up while the number of
/// live processes that match is within `quorum`...`quorum_max`.
public struct TrackProcessDefinition: Hashable, Sendable {
    /// `param_match`: how a process's arguments are compared with the configured ones.
    public enum ParameterMatch: String, Hashable, Sendable {
        /// The same arguments, no more.
        case exact
        /// The configured arguments first; the last may be the start of a longer one.
        case initial
        /// The configured arguments first, then any others.
        case partial
    }

    public var name: String
    /// The kernel's process name (`comm`), or with `fullCommand` the first word of the
    /// command line (`argv[0]`, usually a path).
    public var process: String = ""
    /// The words after the name on the `process` line.
    public var parameters: [String]?
    /// nil: the arguments are not looked at.
    public var parameterMatch: ParameterMatch?
    /// Match /proc/PID/cmdline instead of the process name (implied by parameters or
    /// `param_match`).
    public var fullCommand = false
    public var quorum = 1
    /// nil: no maximum. 0 (which makes `quorum` 0): up only while no such process runs.
    public var quorumMax: Int?
    public var weight = TrackWeight(0)
    /// After the quorum is lost because a process exited, wait this long before
    /// counting it down (a restart within the delay is not seen).
    public var terminateDelaySeconds: Double = 0
    /// After the quorum changes because a tracked process forked, wait this long before
    /// counting it (the child may exec something else).
    public var forkDelaySeconds: Double = 0
    public var location: SourceLocation

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// Whether `count` matching processes make the item up.
    public func hasQuorum(_ count: Int) -> Bool {
        count >= quorum && count <= (quorumMax ?? Int.max)
    }

    /// Whether a process matches: by its name, or with `fullCommand` by its command
    /// line's words (`arguments`, nil when not read). keepalived's rules: exact bytes,
    /// never a pattern.
    public func matches(comm: String?, arguments: [String]?) -> Bool {
        func same(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool { a.utf8.elementsEqual(b.utf8) }
        guard fullCommand else { return comm.map { same($0, process) } ?? false }
        guard let arguments, let first = arguments.first, same(first, process) else { return false }
        guard let parameterMatch else { return true }
        let given = arguments.dropFirst()
        let wanted = parameters ?? []
        guard given.count >= wanted.count else { return false }
        switch parameterMatch {
        case .exact:
            return given.elementsEqual(wanted, by: same)
        case .partial:
            return given.prefix(wanted.count).elementsEqual(wanted, by: same)
        case .initial:
            guard let last = wanted.last else { return true }
            return given.prefix(wanted.count - 1).elementsEqual(wanted.dropLast(), by: same)
                && given[given.startIndex + wanted.count - 1].utf8.starts(with: last.utf8)
        }
    }
}

/// A reference from an instance or sync group to a tracked item, with the weight the
/// reference sets (nil: the item's own weight).
public struct TrackReference: Hashable, Sendable {
    public var name: String
    public var weight: TrackWeight?
    public var location: SourceLocation

    public init(name: String, weight: TrackWeight?, location: SourceLocation) {
        self.name = name
        self.weight = weight
        self.location = location
    }
}

/// One `virtual_ipaddress` line.
public struct VirtualAddress: Hashable, Sendable {
    public var address: IPAddress
    public var prefixLength: Int
    public var broadcast: IPAddress?
    public var device: String?
    public var scope: Scope = .global
    public var label: String?

    public enum Scope: String, Hashable, Sendable {
        case global, site, link, host, nowhere
        /// rtnetlink's RT_SCOPE_* numbers.
        public var netlinkValue: UInt8 {
            switch self {
            case .global: return 0
            case .site: return 200
            case .link: return 253
            case .host: return 254
            case .nowhere: return 255
            }
        }
    }

    public init(address: IPAddress, prefixLength: Int? = nil) {
        self.address = address
        self.prefixLength = prefixLength ?? (address.isIPv4 ? 32 : 128)
    }
}

public enum AuthenticationType: String, Hashable, Sendable { case none, pass }

/// `vrrp_instance NAME { ... }`.
public struct VRRPInstanceConfig: Hashable, Sendable {
    public enum InitialState: String, Hashable, Sendable { case master = "MASTER", backup = "BACKUP" }

    public var name: String
    public var location: SourceLocation
    public var initialState: InitialState = .backup
    public var interface: String = ""
    public var virtualRouterID: Int = 0
    public var priority: Int = 100
    /// Centiseconds: VRRPv3 carries them on the wire; v2 only whole seconds.
    public var advertIntervalCentiseconds = 100
    public var version: Int?
    public var preempt = true
    public var preemptDelaySeconds: Double = 0
    public var authType: AuthenticationType = .none
    public var authPassword: String = ""
    public var virtualAddresses: [VirtualAddress] = []
    public var excludedAddresses: [VirtualAddress] = []
    public var unicastSourceIP: IPAddress?
    public var unicastPeers: [IPAddress] = []
    /// `unicast_ttl`: the TTL (hop limit) of unicast adverts, 255 by default.
    public var unicastTTL = 255
    /// `unicast_peer { ADDRESS min_ttl N max_ttl N }`: the TTL/hop limit range accepted
    /// from that peer (only peers with either keyword are checked, as in keepalived).
    public var unicastPeerTTL: [IPAddress: TTLRange] = [:]
    public var trackScripts: [TrackReference] = []
    public var trackInterfaces: [TrackReference] = []
    public var trackFiles: [TrackReference] = []
    public var trackProcesses: [TrackReference] = []
    public var garpMasterDelay: Int?
    public var garpMasterRepeat: Int?
    public var garpMasterRefresh: Int?
    public var higherPrioritySendAdvert: Bool?
    public var lowerPriorityNoAdvert: Bool?
    public var notifyMaster: String?
    public var notifyBackup: String?
    public var notifyFault: String?
    public var notifyStop: String?
    public var notify: String?
    /// The `USER [GROUP]` after a notify script, keyed by its keyword (`notify_master`, ...).
    public var notifyUsers: [String: ScriptRunAs] = [:]
    public var dontTrackPrimary = false

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// The version on the wire: the instance's own, else `global_defs vrrp_version`.
    public func effectiveVersion(_ global: GlobalDefinitions) -> Int { version ?? global.vrrpVersion }

    /// The instance's address family: that of its first virtual address.
    public var isIPv6: Bool { virtualAddresses.first?.address.isIPv6 ?? false }
}

/// `vrrp_sync_group NAME { group { ... } ... }`.
public struct SyncGroupConfig: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var instances: [String] = []
    public var trackScripts: [TrackReference] = []
    public var notifyMaster: String?
    public var notifyBackup: String?
    public var notifyFault: String?
    public var notifyStop: String?
    public var notify: String?
    /// The `USER [GROUP]` after a notify script, keyed by its keyword (`notify_master`, ...).
    public var notifyUsers: [String: ScriptRunAs] = [:]

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}
