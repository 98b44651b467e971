#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// Effective priorities and faults from the tracked items, per instance and per sync group.
extension VRRPDaemon {
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
            items.append(.status(up: processes.up(r.name), weight: r.weight ?? def.weight))
        }
        var result = TrackedPriority.evaluate(base: i.config.priority, items: items)
        // No interface (yet): FAULT, even with dont_track_primary.
        if i.link == nil { result.fault = true }
        return result
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
}
