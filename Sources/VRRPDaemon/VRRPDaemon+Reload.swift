#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// SIGHUP: read the configuration again and apply it without a failover where possible.
/// A configuration with errors is refused and the running one kept. An instance whose
/// wire identity (interface, VRID, version, interval, authentication, unicast setup) is
/// unchanged keeps its state and sockets: its priority, preemption, scripts and addresses
/// change in place (a master adds and removes the difference). Other instances stop
/// (priority 0 if master) or start.
extension VRRPDaemon {
    func reload() {
        guard let path = options.configPath else { return }
        log.info("Reloading \(path)")
        let (new, diagnostics) = KeepalivedConfigParser.load(path: path, configID: options.configID)
        for d in diagnostics where d.severity != .notice { log.warning("reload: \(d)") }
        guard !diagnostics.hasErrors else {
            log.error("reload: the configuration has errors; keeping the running one")
            return
        }
        let now = MonotonicClock.now()
        let old = Dictionary(instances.map { ($0.config.name, $0) }, uniquingKeysWith: { a, _ in a })
        var next: [InstanceRuntime] = []
        var started: [InstanceRuntime] = []
        for config in new.instances {
            let groupScripts = new.syncGroups.filter { $0.instances.contains(config.name) }.flatMap(\.trackScripts)
            if let runtime = old[config.name],
               InstanceRuntime.wireIdentity(runtime.config, global: configuration.global) == InstanceRuntime.wireIdentity(config, global: new.global) {
                let before = Set(runtime.config.virtualAddresses + runtime.config.excludedAddresses)
                let after = Set(config.virtualAddresses + config.excludedAddresses)
                runtime.config = config
                runtime.filter.unicastPeerTTL = config.unicastPeerTTL
                runtime.groupScripts = groupScripts
                runtime.machine.reconfigure(InstanceRuntime.machineConfiguration(config, global: new.global, source: runtime.source))
                if runtime.machine.state == .master && before != after {
                    for vip in before.subtracting(after) { if let index = runtime.interfaceIndex(for: vip) { try? netlink.change(add: false, address: vip, interfaceIndex: index) } }
                    for vip in after.subtracting(before) {
                        guard let index = runtime.interfaceIndex(for: vip) else { continue }
                        do { try netlink.change(add: true, address: vip, interfaceIndex: index) } catch { log.error("(\(config.name)) \(error)") }
                    }
                    announce(runtime, count: runtime.machine.configuration.garpMasterRepeat)
                }
                log.info("(\(config.name)) reloaded in place")
                next.append(runtime)
                continue
            }
            if let runtime = old[config.name] {
                log.info("(\(config.name)) VRID, version, interval, authentication or unicast setup changed: restarting the instance")
                execute(runtime.machine.shutdown(now: now), on: runtime, now: now)
            }
            do {
                let runtime = try InstanceRuntime(config: config, global: new.global, groupScripts: groupScripts)
                next.append(runtime)
                started.append(runtime)
            } catch {
                log.error("reload: vrrp_instance \(config.name) cannot start: \(error)")
            }
        }
        for (name, runtime) in old where !new.instances.contains(where: { $0.name == name }) {
            log.info("(\(name)) removed from the configuration: stopping it")
            execute(runtime.machine.shutdown(now: now), on: runtime, now: now)
        }
        // Scripts: an unchanged definition keeps its runner (and its up/down state).
        var runners: [String: TrackScriptRunner] = [:]
        for i in next {
            for r in i.config.trackScripts + i.groupScripts where runners[r.name] == nil {
                guard let def = new.scripts[r.name] else { continue }
                if let existing = scripts[r.name], existing.definition.script == def.script, existing.definition.intervalSeconds == def.intervalSeconds,
                   existing.definition.user == def.user, new.global.scriptUser == configuration.global.scriptUser,
                   new.global.enableScriptSecurity == configuration.global.enableScriptSecurity {
                    existing.definition = def
                    runners[r.name] = existing
                } else if let runner = makeScriptRunner(def, global: new.global, now: now) {
                    runners[r.name] = runner
                }
            }
        }
        for (name, runner) in scripts where runners[name] !== runner {
            if let pid = runner.runningPID { kill(-pid, SIGKILL); kill(pid, SIGKILL) }
        }
        scripts = runners
        let sameProcesses = Self.sameProcessTracking(configuration.trackProcesses, new.trackProcesses)
        configuration = new
        if !sameProcesses { startProcessTracking(now: now) }
        instances = next
        for i in next {
            for name in [i.config.interface] + i.config.trackInterfaces.map(\.name) where linkUp[name] == nil {
                let iface = NetworkInterface.lookup(name)
                linkUp[name] = iface?.running ?? false
                if let iface { interfaceNames[iface.index] = name }
            }
        }
        housekeeping(now: now)
        let results = evaluateAll()
        for i in started {
            let t = results[ObjectIdentifier(i)]!
            i.tracking = t
            _ = i.machine.trackingChanged(priority: t.priority, fault: t.fault, now: now)
            for vip in i.config.virtualAddresses + i.config.excludedAddresses {
                if let index = i.interfaceIndex(for: vip) { try? netlink.change(add: false, address: vip, interfaceIndex: index) }
            }
            execute(i.machine.start(now: now), on: i, now: now)
        }
        reevaluateAll(now: now)
        log.info("Reload done: \(next.count) instance(s)")
    }
}
