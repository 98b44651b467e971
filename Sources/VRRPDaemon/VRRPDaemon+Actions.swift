#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// Carrying out the state machines' actions: packets, addresses, ARP, timers, notify scripts.
extension VRRPDaemon {
    func execute(_ actions: [VRRPInstanceStateMachine.Action], on i: InstanceRuntime, now: VRRPInstant) {
        for action in actions {
            switch action {
            case .sendAdvert(let priority):
                let ad = i.advert(priority: priority)
                // Detached (the interface does not exist): the instance is in FAULT.
                guard let socket = i.socket else { break }
                for destination in i.destinations {
                    do {
                        try socket.send(ad.encoded(source: i.source, destination: destination), to: destination)
                        i.counters.advertsSent += 1
                        if priority == 0 { i.counters.priorityZeroSent += 1 }
                    } catch {
                        i.counters.sendErrors += 1
                        log.error("(\(i.config.name)) cannot send advert: \(error)")
                    }
                }
            case .addAddresses, .removeAddresses:
                let add = action == .addAddresses
                if !add { i.announcementRounds.removeAll() }
                log.info("(\(i.config.name)) \(add ? "Setting" : "Removing") virtual addresses on \(i.config.interface)")
                for vip in i.config.virtualAddresses + i.config.excludedAddresses {
                    guard let index = i.interfaceIndex(for: vip) else {
                        // A deleted interface took its addresses with it.
                        if vip.device != nil || i.link != nil { log.error("(\(i.config.name)) interface \(vip.device ?? i.config.interface) of \(vip.address) not found") }
                        continue
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

    /// `count` rounds of one gratuitous ARP (unsolicited NA) per address: back to back, or
    /// `vrrp_garp_interval` (`vrrp_gna_interval`) apart, the later rounds queued for the loop.
    func announce(_ i: InstanceRuntime, count: Int) {
        guard count > 0 else { return }
        sendAnnouncementRound(i)
        let spacing = Int64(i.isIPv6Instance ? configuration.global.gnaIntervalMicroseconds : configuration.global.garpIntervalMicroseconds) * 1000
        let now = MonotonicClock.now()
        for k in 1..<max(count, 1) {
            if spacing == 0 { sendAnnouncementRound(i) } else { i.announcementRounds.append(now + spacing * Int64(k)) }
        }
        i.announcementRounds.sort()
        log.debug("(\(i.config.name)) gratuitous ARP/NA: \(count) per address\(spacing > 0 ? ", \(spacing / 1000) us apart" : "")")
    }

    func sendAnnouncementRound(_ i: InstanceRuntime) {
        guard let mac = i.interface?.mac, mac.count == 6 else { return }
        for vip in (i.config.virtualAddresses + i.config.excludedAddresses).map(\.address) {
            do {
                if vip.isIPv4, let arp = i.arp {
                    try arp.send(GratuitousARP.frame(senderMAC: mac, address: vip))
                } else if vip.isIPv6, let na = i.neighbourAdverts {
                    try na.send(target: vip, mac: mac)
                }
            } catch {
                log.error("(\(i.config.name)) gratuitous ARP for \(vip): \(error)")
            }
        }
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
        if let script { runNotify(ChildProcess.words(script), runAs: i.config.notifyUsers[Self.notifyKeyword(to)]) }
        if let generic = i.config.notify {
            runNotify(ChildProcess.words(generic) + ["INSTANCE", i.config.name, to.rawValue, String(i.machine.priority)], runAs: i.config.notifyUsers["notify"])
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
            if let gs { runNotify(ChildProcess.words(gs), runAs: g.notifyUsers[Self.notifyKeyword(to)]) }
            if let generic = g.notify { runNotify(ChildProcess.words(generic) + ["GROUP", g.name, to.rawValue, "0"], runAs: g.notifyUsers["notify"]) }
        }
    }

    static func notifyKeyword(_ state: VRRPInstanceStateMachine.State) -> String {
        switch state {
        case .master: "notify_master"
        case .backup: "notify_backup"
        case .fault: "notify_fault"
        case .stopped: "notify_stop"
        case .initialize: "notify"
        }
    }

    func runNotify(_ argv: [String], runAs: ScriptRunAs?) {
        do {
            switch scriptCheck(argv: argv, runAs: runAs, global: configuration.global) {
            case .failure(let refusal):
                log.error("notify script \(argv.first ?? ""): \(refusal)")
            case .success(let credentials):
                notifyPIDs.insert(try ChildProcess.spawn(argv, as: credentials))
            }
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

    /// A track script's runner, or nil (logged, as keepalived does) when the script
    /// cannot run: an unknown user or group, or, with `enable_script_security`, a
    /// script run as root that a non-root user could change. Instances then do not
    /// track it.
    func makeScriptRunner(_ def: TrackScriptDefinition, global: GlobalDefinitions, now: VRRPInstant) -> TrackScriptRunner? {
        switch scriptCheck(argv: ChildProcess.words(def.script), runAs: def.user, global: global) {
        case .failure(let refusal):
            log.error("VRRP_Script(\(def.name)) \(refusal)")
            return nil
        case .success(let credentials):
            return TrackScriptRunner(definition: def, credentials: credentials, now: now)
        }
    }

    /// Whom a script runs as, and whether it may run.
    func scriptCheck(argv: [String], runAs: ScriptRunAs?, global: GlobalDefinitions) -> Result<ScriptCredentials?, ScriptRefusal> {
        let credentials: ScriptCredentials?
        switch ScriptCredentials.resolve(runAs, global: global) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let c): credentials = c
        }
        if let refusal = ScriptSecurity.refusal(argv: argv, credentials: credentials) {
            if global.enableScriptSecurity { return .failure(refusal) }
            if case .insecure = refusal, !warnedScriptSecurity {
                warnedScriptSecurity = true
                log.warning("SECURITY VIOLATION - scripts are being executed but script_security not enabled.")
            }
        }
        return .success(credentials)
    }
}
