#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// The running daemon: one poll loop over the VRRP sockets, the link-event socket and
/// the signal pipe, with the earliest deadline (instance timers, scripts, once-a-second
/// file and process checks) as its timeout. Everything happens on this one thread, so
/// the state machines see inputs one at a time and in order.
public final class VRRPDaemon {
    public struct Options: Sendable {
        public var dataFile = "/tmp/keepalived.data"
        public var statsFile = "/tmp/keepalived.stats"
        public init() {}
    }

    let configuration: KeepalivedConfiguration
    let log: DaemonLog
    let options: Options
    let netlink: RouteNetlink
    let signals: SignalPipe
    var instances: [InstanceRuntime] = []
    var scripts: [String: TrackScriptRunner] = [:]
    var linkUp: [String: Bool] = [:]
    var interfaceNames: [Int32: String] = [:]
    var fileValues: [String: Int] = [:]
    var processCounts: [String: Int] = [:]
    var notifyPIDs: Set<pid_t> = []
    var nextHousekeeping = VRRPInstant(nanoseconds: 0)
    var stopping = false
    var syncingGroup = false

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
                if let def = configuration.scripts[r.name] { scripts[r.name] = TrackScriptRunner(definition: def, now: now) }
            }
            // A previous run that was killed may have left the addresses behind.
            for vip in i.config.virtualAddresses + i.config.excludedAddresses {
                if let index = i.interfaceIndex(for: vip) { try? netlink.change(add: false, address: vip, interfaceIndex: index) }
            }
        }
        housekeeping(now: now)
        let initial = evaluateAll()
        for i in instances {
            let t = initial[ObjectIdentifier(i)]!
            i.tracking = t
            _ = i.machine.trackingChanged(priority: t.priority, fault: t.fault, now: now)
            log.info("(\(i.config.name)) starting: priority \(t.priority)\(t.fault ? ", FAULT" : ""), VRRPv\(i.version) \(i.config.unicastPeers.isEmpty ? "multicast" : "unicast") from \(i.source) on \(i.config.interface)")
            execute(i.machine.start(now: now), on: i, now: now)
        }
        while !stopping {
            let now = MonotonicClock.now()
            fireDue(now: now)
            if stopping { break }
            let timeout = pollTimeout(now: MonotonicClock.now())
            var fds = [pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: netlink.eventFD, events: Int16(POLLIN), revents: 0)]
            fds += instances.map { pollfd(fd: $0.socket.receiveFD, events: Int16(POLLIN), revents: 0) }
            let rc = poll(&fds, nfds_t(fds.count), timeout)
            if rc < 0 && errno != EINTR { log.error("poll: \(SystemError("poll"))"); return 1 }
            if fds[0].revents != 0 { handleSignals() }
            if fds[1].revents != 0 { handleLinkEvents() }
            for (k, i) in instances.enumerated() where fds[2 + k].revents != 0 { receive(on: i) }
        }
        shutdown()
        return 0
    }

    func pollTimeout(now: VRRPInstant) -> Int32 {
        var next = nextHousekeeping
        for i in instances { for at in i.timers.values where at < next { next = at } }
        for s in scripts.values where s.nextDeadline < next { next = s.nextDeadline }
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
        }
        for (name, s) in scripts {
            if s.killIfOverdue(now: now) {
                log.warning("VRRP_Script(\(name)) timed out after \(s.definition.effectiveTimeoutSeconds)s, killed")
            }
            if let failure = s.startIfDue(now: now) {
                log.error("VRRP_Script(\(name)) cannot run: \(failure)")
            }
        }
        if now >= nextHousekeeping {
            housekeeping(now: now)
            reevaluateAll(now: now)
        }
    }

    /// Track files and processes are read once a second.
    func housekeeping(now: VRRPInstant) {
        nextHousekeeping = now + 1_000_000_000
        for (name, def) in configuration.trackFiles {
            fileValues[name] = TrackSources.readNumber(def.path) ?? def.initValue ?? 0
        }
        if !configuration.trackProcesses.isEmpty {
            let counts = TrackSources.processCounts(names: Set(configuration.trackProcesses.values.map(\.process)))
            for (name, def) in configuration.trackProcesses { processCounts[name] = counts[def.process] ?? 0 }
        }
    }

    // MARK: - tracking

    func evaluateTracking(_ i: InstanceRuntime) -> (priority: Int, fault: Bool) {
        var items: [TrackedPriority.Item] = []
        if !i.config.dontTrackPrimary { items.append(.status(up: linkUp[i.config.interface] ?? false, weight: nil)) }
        for r in i.config.trackScripts + i.groupScripts {
            guard let s = scripts[r.name] else { continue }
            items.append(.status(up: s.up, weight: r.weight ?? s.definition.weight))
        }
        for r in i.config.trackInterfaces {
            items.append(.status(up: linkUp[r.name] ?? false, weight: r.weight))
        }
        for r in i.config.trackFiles {
            guard let def = configuration.trackFiles[r.name] else { continue }
            items.append(.file(value: fileValues[r.name] ?? 0, weight: r.weight ?? def.weight))
        }
        for r in i.config.trackProcesses {
            guard let def = configuration.trackProcesses[r.name] else { continue }
            let count = processCounts[r.name] ?? 0
            let up = count >= def.quorum && count <= (def.quorumMax ?? Int.max)
            items.append(.status(up: up, weight: r.weight ?? def.weight))
        }
        return TrackedPriority.evaluate(base: i.config.priority, items: items)
    }

    /// A sync group is in FAULT when any member is (keepalived's rule), so every member's
    /// fault is its own or its group's.
    func evaluateAll() -> [ObjectIdentifier: (priority: Int, fault: Bool)] {
        var results: [ObjectIdentifier: (priority: Int, fault: Bool)] = [:]
        for i in instances { results[ObjectIdentifier(i)] = evaluateTracking(i) }
        for g in configuration.syncGroups {
            let members = instances.filter { g.instances.contains($0.config.name) }
            guard members.contains(where: { results[ObjectIdentifier($0)]!.fault }) else { continue }
            for m in members { results[ObjectIdentifier(m)]!.fault = true }
        }
        return results
    }

    func reevaluateAll(now: VRRPInstant) {
        let results = evaluateAll()
        for i in instances {
            let t = results[ObjectIdentifier(i)]!
            guard t.priority != i.tracking.priority || t.fault != i.tracking.fault else { continue }
            log.info("(\(i.config.name)) effective priority \(i.tracking.priority) -> \(t.priority)\(t.fault ? " (FAULT)" : "")")
            i.tracking = t
            execute(i.machine.trackingChanged(priority: t.priority, fault: t.fault, now: now), on: i, now: now)
        }
    }

    // MARK: - inputs

    func receive(on i: InstanceRuntime) {
        while let packet = i.socket.receive(malformed: &i.counters.malformedIP) {
            switch i.filter.check(source: packet.source, destination: packet.destination, ttl: packet.ttl, payload: packet.payload) {
            case .accepted(let ad):
                i.counters.advertsReceived += 1
                if ad.priority == 0 { i.counters.priorityZeroReceived += 1 }
                log.debug("(\(i.config.name)) advert from \(packet.source) priority \(ad.priority)")
                execute(i.machine.advertReceived(ad, from: packet.source, now: MonotonicClock.now()), on: i, now: MonotonicClock.now())
            case .otherVirtualRouter:
                i.counters.otherVirtualRouter += 1
            case .dropped(let reason):
                i.counters.drops[reason, default: 0] += 1
                if reason != .ownAdvert {
                    log.debug("(\(i.config.name)) dropped packet from \(packet.source): \(reason.rawValue)")
                }
            }
        }
    }

    func handleLinkEvents() {
        var changed = false
        for event in netlink.readLinkEvents() {
            guard let name = interfaceNames[event.index], linkUp[name] != event.running else { continue }
            linkUp[name] = event.running
            log.info("Netlink reports \(name) \(event.running ? "up" : "down")")
            changed = true
        }
        if changed { reevaluateAll(now: MonotonicClock.now()) }
    }

    func handleSignals() {
        for s in signals.drain() {
            switch s {
            case SIGTERM, SIGINT:
                log.info("Stopping")
                stopping = true
            case SIGCHLD:
                reapChildren()
            case SIGUSR1:
                writeDump(options.dataFile, dataDump())
            case SIGUSR2:
                writeDump(options.statsFile, statsDump())
            case SIGHUP:
                log.warning("SIGHUP: reloading is not supported yet; restart fulcrum-vrrp to apply a new configuration")
            default:
                break
            }
        }
    }

    func reapChildren() {
        var changed = false
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { break }
            if notifyPIDs.remove(pid) != nil { continue }
            for (name, s) in scripts where s.runningPID == pid {
                let wasTimeout = s.timedOut
                if s.finished(status: status) {
                    log.info("VRRP_Script(\(name)) \(s.up ? "succeeded" : "failed")\(wasTimeout ? " (timed out)" : "")")
                    changed = true
                }
            }
        }
        if changed { reevaluateAll(now: MonotonicClock.now()) }
    }

    // MARK: - actions

    func execute(_ actions: [VRRPInstanceStateMachine.Action], on i: InstanceRuntime, now: VRRPInstant) {
        for action in actions {
            switch action {
            case .sendAdvert(let priority):
                let ad = i.advert(priority: priority)
                for destination in i.destinations {
                    do {
                        try i.socket.send(ad.encoded(source: i.source, destination: destination), to: destination)
                        i.counters.advertsSent += 1
                        if priority == 0 { i.counters.priorityZeroSent += 1 }
                    } catch {
                        i.counters.sendErrors += 1
                        log.error("(\(i.config.name)) cannot send advert: \(error)")
                    }
                }
            case .addAddresses, .removeAddresses:
                let add = action == .addAddresses
                log.info("(\(i.config.name)) \(add ? "Setting" : "Removing") virtual addresses on \(i.config.interface)")
                for vip in i.config.virtualAddresses + i.config.excludedAddresses {
                    guard let index = i.interfaceIndex(for: vip) else {
                        log.error("(\(i.config.name)) interface \(vip.device ?? "?") of \(vip.address) not found"); continue
                    }
                    do { try netlink.change(add: add, address: vip, interfaceIndex: index) } catch { log.error("(\(i.config.name)) \(error)") }
                }
            case .announceAddresses(let count):
                announce(i, count: count)
            case .arm(let timer, let at):
                i.timers[timer] = at
            case .cancel(let timer):
                i.timers[timer] = nil
            case .transition(let from, let to):
                transition(i, from: from, to: to)
            }
        }
    }

    func announce(_ i: InstanceRuntime, count: Int) {
        let vips = (i.config.virtualAddresses + i.config.excludedAddresses).map(\.address)
        for _ in 0..<count {
            for vip in vips {
                do {
                    if vip.isIPv4, let arp = i.arp, i.interface.mac.count == 6 {
                        try arp.send(GratuitousARP.frame(senderMAC: i.interface.mac, address: vip))
                    } else if vip.isIPv6, let na = i.neighbourAdverts, i.interface.mac.count == 6 {
                        try na.send(target: vip, mac: i.interface.mac)
                    }
                } catch {
                    log.error("(\(i.config.name)) gratuitous ARP for \(vip): \(error)")
                }
            }
        }
        log.debug("(\(i.config.name)) sent \(count) gratuitous ARP/NA per address")
    }

    func transition(_ i: InstanceRuntime, from: VRRPInstanceStateMachine.State, to: VRRPInstanceStateMachine.State) {
        log.info("(\(i.config.name)) Entering \(to.rawValue) STATE")
        if to == .master { i.counters.becameMaster += 1 }
        if from == .master { i.counters.releasedMaster += 1 }
        let script: String?
        switch to {
        case .master: script = i.config.notifyMaster
        case .backup: script = i.config.notifyBackup
        case .fault: script = i.config.notifyFault
        case .stopped: script = i.config.notifyStop
        case .initialize: script = nil
        }
        if let script { runNotify(ChildProcess.words(script)) }
        if let generic = i.config.notify {
            runNotify(ChildProcess.words(generic) + ["INSTANCE", i.config.name, to.rawValue, String(i.machine.priority)])
        }
        for g in configuration.syncGroups where g.instances.contains(i.config.name) {
            let members = instances.filter { g.instances.contains($0.config.name) }
            // The group moves together: the first member to take over or step down
            // takes the others with it.
            if !syncingGroup && ((from == .backup && to == .master) || (from == .master && to == .backup)) {
                syncingGroup = true
                let now = MonotonicClock.now()
                for m in members where m !== i {
                    execute(to == .master ? m.machine.groupMemberBecameMaster(now: now) : m.machine.groupMemberBecameBackup(now: now), on: m, now: now)
                }
                syncingGroup = false
            }
            // A group's scripts run when its last member arrives in the state.
            guard members.allSatisfy({ $0.machine.state == to }) else { continue }
            let gs: String?
            switch to {
            case .master: gs = g.notifyMaster
            case .backup: gs = g.notifyBackup
            case .fault: gs = g.notifyFault
            case .stopped: gs = g.notifyStop
            case .initialize: gs = nil
            }
            if let gs { runNotify(ChildProcess.words(gs)) }
            if let generic = g.notify { runNotify(ChildProcess.words(generic) + ["GROUP", g.name, to.rawValue, "0"]) }
        }
    }

    func runNotify(_ argv: [String]) {
        do {
            notifyPIDs.insert(try ChildProcess.spawn(argv))
        } catch {
            log.error("notify script \(argv.first ?? ""): \(error)")
        }
    }

    func shutdown() {
        let now = MonotonicClock.now()
        for i in instances { execute(i.machine.shutdown(now: now), on: i, now: now) }
        for s in scripts.values { if let pid = s.runningPID { kill(-pid, SIGKILL); kill(pid, SIGKILL) } }
        // Give notify_stop scripts a moment to start before the process goes.
        var waited = 0
        while !notifyPIDs.isEmpty && waited < 50 {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { notifyPIDs.remove(pid); continue }
            usleep(20_000); waited += 1
        }
    }

    // MARK: - dumps

    func dataDump() -> String {
        var out = "------< VRRP Topology >------\n"
        for i in instances {
            let m = i.machine
            out += " VRRP Instance = \(i.config.name)\n"
            out += "   State = \(m.state.rawValue)\n"
            out += "   Interface = \(i.config.interface)\n"
            out += "   Virtual Router ID = \(i.config.virtualRouterID)\n"
            out += "   Version = \(i.version)\n"
            out += "   Base priority = \(i.config.priority)\n"
            out += "   Effective priority = \(m.priority)\(m.faulted ? " (fault)" : "")\n"
            out += "   Advert interval = \(Double(i.config.advertIntervalCentiseconds) / 100) sec\n"
            out += "   Preempt = \(i.config.preempt ? "enabled" : "disabled")\n"
            out += "   Source = \(i.source)\n"
            if let master = m.masterAddress { out += "   Master router = \(master)\n" }
            out += "   Virtual IP = \(i.config.virtualAddresses.count)\n"
            for v in i.config.virtualAddresses { out += "     \(v.address)/\(v.prefixLength) dev \(v.device ?? i.config.interface) scope \(v.scope.rawValue)\n" }
            for (name, s) in scripts.sorted(by: { $0.key < $1.key }) {
                out += "   Tracked script = \(name) \(s.up ? "GOOD" : "BAD") runs \(s.runs) timeouts \(s.timeouts)\n"
            }
            for r in i.config.trackInterfaces { out += "   Tracked interface = \(r.name) \(linkUp[r.name] == true ? "UP" : "DOWN")\n" }
        }
        return out
    }

    func statsDump() -> String {
        var out = ""
        for i in instances {
            let c = i.counters
            out += "VRRP Instance: \(i.config.name)\n"
            out += "  Advertisements:\n    Received: \(c.advertsReceived)\n    Sent: \(c.advertsSent)\n"
            out += "  Became master: \(c.becameMaster)\n  Released master: \(c.releasedMaster)\n"
            out += "  Packet Errors:\n    Malformed IP: \(c.malformedIP)\n"
            for reason in VRRPDropReason.allCases { out += "    \(reason.rawValue): \(c.drops[reason] ?? 0)\n" }
            out += "  Other virtual routers: \(c.otherVirtualRouter)\n"
            out += "  Send errors: \(c.sendErrors)\n"
            out += "  Priority Zero:\n    Received: \(c.priorityZeroReceived)\n    Sent: \(c.priorityZeroSent)\n"
        }
        return out
    }

    func writeDump(_ path: String, _ text: String) {
        log.info("Writing \(path)")
        guard let f = fopen(path, "w") else { log.error("cannot write \(path): \(SystemError("fopen"))"); return }
        fputs(text, f)
        fclose(f)
        for line in text.split(separator: "\n") { log.info(String(line)) }
    }
}
