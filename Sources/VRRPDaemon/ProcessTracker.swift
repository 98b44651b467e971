#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// keepalived's bookkeeping for `vrrp_track_process`, as a value driven by a scan of
/// /proc and then by the kernel's process events: which live processes each item
/// counts (by pid, so an exit needs no /proc read), and whether each item has its
/// quorum. Pure: the caller reads /proc and the clock.
///
/// `terminate_delay` and `fork_delay` follow keepalived: a quorum lost because a
/// counted process exited waits `terminate_delay` (a fork that restores it in the
/// meantime cancels the wait, and nothing is seen); a quorum gained or exceeded because
/// a counted process forked waits `fork_delay` (an exit that undoes it cancels the
/// wait). A process that execs something else or is renamed counts at once, either way.
struct ProcessTracker {
    /// One process as /proc shows it: its name (`comm`) and, when some item matches the
    /// command line, its words.
    struct Process: Equatable {
        var pid: pid_t
        var comm: String?
        var arguments: [String]?
    }

    struct Item {
        var definition: TrackProcessDefinition
        var count = 0
        var up = false
        /// A quorum change waiting for `terminate_delay` or `fork_delay`.
        var terminateDeadline: VRRPInstant?
        var forkDeadline: VRRPInstant?

        init(_ definition: TrackProcessDefinition) { self.definition = definition }
    }

    private(set) var items: [String: Item] = [:]
    /// Counted processes: pid to the names of the items that count it.
    private(set) var counted: [pid_t: Set<String>] = [:]
    /// Whether some item matches names, and whether some matches command lines: what
    /// must be read for a new process.
    let needsComm: Bool
    let needsArguments: Bool

    init(definitions: [String: TrackProcessDefinition]) {
        for (name, def) in definitions { items[name] = Item(def) }
        needsComm = definitions.values.contains { !$0.fullCommand }
        needsArguments = definitions.values.contains { $0.fullCommand }
    }

    var isEmpty: Bool { items.isEmpty }

    func up(_ name: String) -> Bool { items[name]?.up ?? false }

    /// The earliest pending delay.
    var nextDeadline: VRRPInstant? {
        items.values.flatMap { [$0.terminateDeadline, $0.forkDeadline].compactMap { $0 } }.min()
    }

    // MARK: - scans

    /// A full scan of /proc. The first one sets every item as it is; a later one (the
    /// poll fallback, or after lost events) counts a regained quorum at once and a lost
    /// one after `terminate_delay`, as keepalived's rescan does. Returns whether an
    /// item went up or down.
    @discardableResult
    mutating func scanned(_ processes: [Process], initial: Bool, now: VRRPInstant) -> Bool {
        counted = [:]
        var counts: [String: Int] = [:]
        for p in processes {
            let names = matchingNames(p)
            guard !names.isEmpty else { continue }
            counted[p.pid] = names
            for n in names { counts[n, default: 0] += 1 }
        }
        var changed = false
        for name in Array(items.keys) {
            var item = items[name]!
            item.count = counts[name] ?? 0
            item.forkDeadline = nil
            let quorum = item.definition.hasQuorum(item.count)
            if initial || quorum {
                item.terminateDeadline = nil
                if item.up != quorum { item.up = quorum; changed = true }
            } else if !item.up {
                item.terminateDeadline = nil
            } else if item.definition.terminateDelaySeconds > 0 {
                // Lost: wait terminate_delay (or the rest of a wait already running).
                if item.terminateDeadline == nil { item.terminateDeadline = now + Self.nanoseconds(item.definition.terminateDelaySeconds) }
            } else {
                item.up = false
                changed = true
            }
            items[name] = item
        }
        return changed
    }

    // MARK: - events

    /// PROC_EVENT_FORK of a process (not a thread): the child counts for the items
    /// that count its parent.
    @discardableResult
    mutating func forked(parent: pid_t, child: pid_t, now: VRRPInstant) -> Bool {
        guard let names = counted[parent] else { return false }
        let new = names.subtracting(counted[child] ?? [])
        guard !new.isEmpty else { return false }
        counted[child, default: []].formUnion(new)
        var changed = false
        for name in new { changed = add(name, forked: true, now: now) || changed }
        return changed
    }

    /// PROC_EVENT_EXEC, with the process as /proc shows it afterwards (the caller
    /// skips a process already gone: its exit follows).
    @discardableResult
    mutating func execed(_ process: Process, now: VRRPInstant) -> Bool {
        recount(process.pid, now: now) { item, _ in item.definition.matches(comm: process.comm, arguments: process.arguments) }
    }

    /// PROC_EVENT_COMM, which carries the new name; items matching command lines are
    /// not concerned.
    @discardableResult
    mutating func renamed(pid: pid_t, comm: String, now: VRRPInstant) -> Bool {
        recount(pid, now: now) { item, before in
            item.definition.fullCommand ? before : item.definition.matches(comm: comm, arguments: nil)
        }
    }

    /// Counts `pid` again for every item: `matches` says whether it now matches, given
    /// whether it did.
    private mutating func recount(_ pid: pid_t, now: VRRPInstant, matches: (Item, Bool) -> Bool) -> Bool {
        let before = counted[pid] ?? []
        let after = Set(items.filter { matches($0.value, before.contains($0.key)) }.keys)
        guard after != before else { return false }
        counted[pid] = after.isEmpty ? nil : after
        var changed = false
        for name in after.subtracting(before) { changed = add(name, forked: false, now: now) || changed }
        for name in before.subtracting(after) { changed = remove(name, exited: false, now: now) || changed }
        return changed
    }

    /// PROC_EVENT_EXIT of a process (not a thread).
    @discardableResult
    mutating func exited(pid: pid_t, now: VRRPInstant) -> Bool {
        guard let names = counted.removeValue(forKey: pid) else { return false }
        var changed = false
        for name in names { changed = remove(name, exited: true, now: now) || changed }
        return changed
    }

    /// Delays that have run out: the item is set from its count as it is now.
    @discardableResult
    mutating func fireDue(now: VRRPInstant) -> Bool {
        var changed = false
        for name in Array(items.keys) {
            var item = items[name]!
            var due = false
            if let at = item.terminateDeadline, at <= now { item.terminateDeadline = nil; due = true }
            if let at = item.forkDeadline, at <= now { item.forkDeadline = nil; due = true }
            guard due else { continue }
            let quorum = item.definition.hasQuorum(item.count)
            if item.up != quorum { item.up = quorum; changed = true }
            items[name] = item
        }
        return changed
    }

    // MARK: - counting

    func matchingNames(_ p: Process) -> Set<String> {
        Set(items.filter { $0.value.definition.matches(comm: p.comm, arguments: p.arguments) }.keys)
    }

    /// One more process for `name`. Only a step across an edge of the quorum range
    /// matters (up to `quorum`, or past `quorum_max`).
    private mutating func add(_ name: String, forked: Bool, now: VRRPInstant) -> Bool {
        guard var item = items[name] else { return false }
        defer { items[name] = item }
        let wasQuorum = item.definition.hasQuorum(item.count)
        item.count += 1
        let quorum = item.definition.hasQuorum(item.count)
        guard quorum != wasQuorum else { return false }
        if forked {
            if item.terminateDeadline != nil {
                // Undoes an exit still waiting: as if nothing happened.
                item.terminateDeadline = nil
            } else if item.definition.forkDelaySeconds > 0 {
                item.forkDeadline = now + Self.nanoseconds(item.definition.forkDelaySeconds)
                return false
            }
        } else {
            item.terminateDeadline = nil
        }
        guard item.up != quorum else { return false }
        item.up = quorum
        return true
    }

    /// One process fewer for `name`.
    private mutating func remove(_ name: String, exited: Bool, now: VRRPInstant) -> Bool {
        guard var item = items[name] else { return false }
        defer { items[name] = item }
        let wasQuorum = item.definition.hasQuorum(item.count)
        item.count = max(0, item.count - 1)
        let quorum = item.definition.hasQuorum(item.count)
        guard quorum != wasQuorum else { return false }
        if exited {
            if item.forkDeadline != nil {
                // Undoes a fork still waiting.
                item.forkDeadline = nil
            } else if item.definition.terminateDelaySeconds > 0 {
                item.terminateDeadline = now + Self.nanoseconds(item.definition.terminateDelaySeconds)
                return false
            }
        } else {
            item.forkDeadline = nil
        }
        guard item.up != quorum else { return false }
        item.up = quorum
        return true
    }

    static func nanoseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1_000_000_000).rounded()) }
}
