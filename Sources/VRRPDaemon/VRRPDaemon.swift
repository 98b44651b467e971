#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// The running daemon: one poll loop over the VRRP sockets, the link-event socket, the
/// process-event socket and the signal pipe, with the earliest deadline (instance
/// timers, scripts, track_process delays, file checks) as its timeout. Everything
/// happens on this one thread, so the state machines see inputs one at a time and in
/// order.
public final class VRRPDaemon {
    public struct Options: Sendable {
        public var dataFile = "/tmp/keepalived.data"
        public var statsFile = "/tmp/keepalived.stats"
        /// Read again on SIGHUP.
        public var configPath: String?
        public var configID: String?
        public init() {}
    }

    var configuration: KeepalivedConfiguration
    let log: DaemonLog
    let options: Options
    let netlink: RouteNetlink
    let signals: SignalPipe
    var instances: [InstanceRuntime] = []
    var scripts: [String: TrackScriptRunner] = [:]
    var linkUp: [String: Bool] = [:]
    var interfaceNames: [Int32: String] = [:]
    var fileValues: [String: Int] = [:]
    var processes = ProcessTracker(definitions: [:])
    /// nil: nothing to track, or the kernel's events cannot be had (then /proc is scanned).
    var processEvents: ProcessEventSocket?
    var processTrackingMode: String?
    var notifyPIDs: Set<pid_t> = []
    var nextHousekeeping = VRRPInstant(nanoseconds: 0)
    var stopping = false
    var syncingGroup = false
    var warnedScriptSecurity = false

    public init(configuration: KeepalivedConfiguration, log: DaemonLog, options: Options = Options()) throws {
        self.configuration = configuration
        self.log = log
        self.options = options
        signals = try SignalPipe(signals: [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD])
        netlink = try RouteNetlink()
        for instance in configuration.instances {
            let groupScripts = configuration.syncGroups.filter { $0.instances.contains(instance.name) }.flatMap(\.trackScripts)
            let runtime = try InstanceRuntime(config: instance, global: configuration.global, groupScripts: groupScripts)
            instances.append(runtime)
        }
    }

    // MARK: - start and loop

    public func run() -> Int32 {
        let now = MonotonicClock.now()
        for i in instances {
            for name in [i.config.interface] + i.config.trackInterfaces.map(\.name) where linkUp[name] == nil {
                let iface = NetworkInterface.lookup(name)
                linkUp[name] = iface?.running ?? false
                if let iface { interfaceNames[iface.index] = name }
            }
            for r in i.config.trackScripts + i.groupScripts where scripts[r.name] == nil {
                if let def = configuration.scripts[r.name] { scripts[r.name] = makeScriptRunner(def, global: configuration.global, now: now) }
            }
            // A previous run that was killed may have left the addresses behind.
            for vip in i.config.virtualAddresses + i.config.excludedAddresses {
                if let index = i.interfaceIndex(for: vip) { try? netlink.change(add: false, address: vip, interfaceIndex: index) }
            }
        }
        startProcessTracking(now: now)
        housekeeping(now: now)
        let initial = evaluateAll()
        for i in instances {
            let t = initial[ObjectIdentifier(i)]!
            i.tracking = t
            _ = i.machine.trackingChanged(priority: t.priority, fault: t.fault, now: now)
            if i.link == nil, let reason = try? i.attach() {
                log.warning("WARNING - \(reason): FAULT until it appears")
            }
            log.info("(\(i.config.name)) starting: priority \(t.priority)\(t.fault ? ", FAULT" : ""), VRRPv\(i.version) \(i.config.unicastPeers.isEmpty ? "multicast" : "unicast") from \(i.link == nil ? "(no interface yet)" : "\(i.source)") on \(i.config.interface)")
            execute(i.machine.start(now: now), on: i, now: now)
        }
        while !stopping {
            let now = MonotonicClock.now()
            fireDue(now: now)
            if stopping { break }
            let timeout = pollTimeout(now: MonotonicClock.now())
            var fds = [pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: netlink.eventFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: processEvents?.fd ?? -1, events: Int16(POLLIN), revents: 0)]
            let first = fds.count
            fds += instances.map { pollfd(fd: $0.socket?.receiveFD ?? -1, events: Int16(POLLIN), revents: 0) }
            let rc = poll(&fds, nfds_t(fds.count), timeout)
            if rc < 0 && errno != EINTR { log.error("poll: \(SystemError("poll"))"); return 1 }
            // Process events first: a dead service's FAULT goes out before anything else.
            if fds[2].revents != 0 { handleProcessEvents() }
            if fds[0].revents != 0 { handleSignals() }
            if fds[1].revents != 0 { handleLinkEvents() }
            for (k, i) in instances.enumerated() where fds[first + k].revents != 0 { receive(on: i) }
        }
        shutdown()
        return 0
    }

    func pollTimeout(now: VRRPInstant) -> Int32 {
        var next = nextHousekeeping
        for i in instances {
            for at in i.timers.values where at < next { next = at }
            if let at = i.announcementRounds.first, at < next { next = at }
        }
        for s in scripts.values where s.nextDeadline < next { next = s.nextDeadline }
        if let at = processes.nextDeadline, at < next { next = at }
        let ns = next - now
        if ns <= 0 { return 0 }
        return Int32(min(1000, (ns + 999_999) / 1_000_000))
    }

    func fireDue(now: VRRPInstant) {
        for i in instances {
            let due = i.timers.filter { $0.value <= now }.sorted { $0.value < $1.value }
            for (timer, _) in due {
                i.timers[timer] = nil
                execute(i.machine.timerFired(timer, now: now), on: i, now: now)
            }
            while let at = i.announcementRounds.first, at <= now {
                i.announcementRounds.removeFirst()
                sendAnnouncementRound(i)
            }
        }
        for (name, s) in scripts {
            if s.killIfOverdue(now: now) {
                log.warning("VRRP_Script(\(name)) timed out after \(s.definition.effectiveTimeoutSeconds)s, killed")
            }
            if let failure = s.startIfDue(now: now) {
                log.error("VRRP_Script(\(name)) cannot run: \(failure)")
            }
        }
        if processes.fireDue(now: now) { reevaluateAll(now: now) }
        if now >= nextHousekeeping {
            housekeeping(now: now)
            reevaluateAll(now: now)
        }
    }

    /// The instances' interfaces and the tracked ones.
    var watchedInterfaces: Set<String> {
        Set(instances.flatMap { [$0.config.interface] + $0.config.trackInterfaces.map(\.name) })
    }

    /// Attaches instances whose interface has appeared (or got its address); returns
    /// true when one did, so tracking is evaluated again (it leaves FAULT if all is well).
    func attachDetached() -> Bool {
        var attached = false
        for i in instances where i.link == nil {
            do {
                if try i.attach() == nil {
                    let iface = i.interface!
                    interfaceNames[iface.index] = iface.name
                    linkUp[iface.name] = iface.running
                    log.info("(\(i.config.name)) interface \(iface.name) now exists: VRRPv\(i.version) \(i.config.unicastPeers.isEmpty ? "multicast" : "unicast") from \(i.source)")
                    // A killed run may have left the addresses behind.
                    for vip in i.config.virtualAddresses + i.config.excludedAddresses {
                        if let index = i.interfaceIndex(for: vip) { try? netlink.change(add: false, address: vip, interfaceIndex: index) }
                    }
                    attached = true
                }
            } catch {
                log.error("(\(i.config.name)) \(error)")
            }
        }
        return attached
    }

    /// Track files, and processes when their events cannot be had, are read four times
    /// a second.
    func housekeeping(now: VRRPInstant) {
        // A dead service should move the VIP well within Master_Down_Interval: scan
        // a quarter of a second apart while anything is tracked this way.
        let polledProcesses = !processes.isEmpty && processEvents == nil
        let tracked = polledProcesses || !configuration.trackFiles.isEmpty
        nextHousekeeping = now + (tracked ? 250_000_000 : 1_000_000_000)
        // An interface that exists but had no address yet at its link event (every
        // caller evaluates the tracking afterwards).
        if instances.contains(where: { $0.link == nil }) { _ = attachDetached() }
        for (name, def) in configuration.trackFiles {
            fileValues[name] = TrackSources.readNumber(def.path) ?? def.initValue ?? 0
        }
        if polledProcesses { _ = rescanProcesses(now: now) }
    }
}
