/// `balance roundrobin` and `balance static-rr`: weighted round robin that interleaves
/// servers smoothly (weights 5,1,1 give a a b a c a a, not a a a a a b c), the order
/// HAProxy's roundrobin produces. Backup servers are used only when no active server is
/// usable, and then only the first usable backup unless `allbackups` is set.
public struct RoundRobinBalancer: Balancer {
    struct Entry: Sendable {
        var weight: Int
        var backup: Bool
        var usable: Bool
        var current = 0
    }

    var entries: [Entry]
    let useAllBackups: Bool
    let isStatic: Bool

    public init(servers: [(weight: Int, backup: Bool)], useAllBackups: Bool = false, isStatic: Bool = false) {
        self.entries = servers.map { Entry(weight: $0.weight, backup: $0.backup, usable: true) }
        self.useAllBackups = useAllBackups
        self.isStatic = isStatic
    }

    public mutating func pick(excluding excluded: Set<Int>, hash: UInt32?) -> Int? {
        // The pool (the usable active servers, or else the backups: all of them with
        // `allbackups`, the first one otherwise) is found without building it: this
        // runs for every request.
        var anyActive = false
        var firstBackup: Int?
        for i in entries.indices where isCandidate(i, excluded) {
            if !entries[i].backup {
                anyActive = true
                break
            }
            if firstBackup == nil { firstBackup = i }
        }
        if !anyActive && !useAllBackups, let only = firstBackup { return only }
        guard anyActive || firstBackup != nil else { return nil }
        var total = 0
        var best: Int?
        for i in entries.indices where isCandidate(i, excluded) && entries[i].backup != anyActive {
            entries[i].current += entries[i].weight
            total += entries[i].weight
            if best == nil || entries[i].current > entries[best!].current { best = i }
        }
        guard let best else { return nil }
        entries[best].current -= total
        return best
    }

    private func isCandidate(_ i: Int, _ excluded: Set<Int>) -> Bool {
        entries[i].usable && entries[i].weight > 0 && !excluded.contains(i)
    }

    public mutating func setUsable(_ server: Int, _ usable: Bool) {
        entries[server].usable = usable
        entries[server].current = 0
    }

    /// Dynamic weights (`slowstart`, the runtime API): `static-rr` ignores changes, as
    /// HAProxy's does.
    public mutating func setWeight(_ server: Int, _ weight: Int) {
        guard !isStatic else { return }
        entries[server].weight = weight
    }

    public mutating func connectionTaken(_ server: Int) {}
    public mutating func connectionReleased(_ server: Int) {}
}
