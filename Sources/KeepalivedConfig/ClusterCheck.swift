/// Checks the configs of all nodes of a cluster together (`fulcrum-vrrp -t -f a -f b`):
/// what keepalived cannot see from one node. Instances are matched by virtual router ID
/// and address family.
public enum ClusterCheck {
    public struct Node: Sendable {
        public var name: String
        public var configuration: KeepalivedConfiguration
        public init(name: String, configuration: KeepalivedConfiguration) {
            self.name = name
            self.configuration = configuration
        }
    }

    struct Member {
        var node: String
        var instance: VRRPInstanceConfig
        var global: GlobalDefinitions
        var healthy: Int
        var failed: Int
        /// Some tracked script has no weight, so its failure means FAULT: the VIP moves.
        var faultsOnFailure: Bool
    }

    public static func check(_ nodes: [Node]) -> [KeepalivedDiagnostic] {
        var out: [KeepalivedDiagnostic] = []
        var groups: [String: [Member]] = [:]
        var order: [String] = []
        for node in nodes {
            let c = node.configuration
            for i in c.instances {
                var up = i.priority, down = i.priority
                var faults = false
                for r in i.trackScripts {
                    guard let def = c.scripts[r.name] else { continue }
                    let w = r.weight ?? def.weight
                    if w.value == 0 { faults = true; continue }
                    let upAdds = w.reverse ? (w.value < 0 ? w.value : 0) : (w.value > 0 ? w.value : 0)
                    let downAdds = w.reverse ? (w.value > 0 ? w.value : 0) : (w.value < 0 ? w.value : 0)
                    up += upAdds
                    down += downAdds
                }
                if i.priority != 255 {
                    up = min(254, max(1, up)); down = min(254, max(1, down))
                }
                let key = "VRID \(i.virtualRouterID) (\(i.isIPv6 ? "IPv6" : "IPv4"))"
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(Member(node: node.name, instance: i, global: c.global, healthy: up, failed: down, faultsOnFailure: faults))
            }
        }
        for key in order {
            let members = groups[key]!
            let first = members[0]
            func at(_ m: Member) -> SourceLocation { m.instance.location }
            if members.count == 1 {
                out.append(.init(.warning, "\(key): vrrp_instance \(first.instance.name) is on \(first.node) only; no other node backs it up", at: at(first)))
                continue
            }
            for m in members.dropFirst() {
                let a = first.instance, b = m.instance
                if a.effectiveVersion(first.global) != b.effectiveVersion(m.global) {
                    out.append(.init(.error, "\(key): VRRP version \(b.effectiveVersion(m.global)) on \(m.node) but \(a.effectiveVersion(first.global)) on \(first.node); the nodes will not hear each other", at: at(m)))
                }
                if a.advertIntervalCentiseconds != b.advertIntervalCentiseconds {
                    out.append(.init(.error, "\(key): advert_int \(Double(b.advertIntervalCentiseconds) / 100) on \(m.node) but \(Double(a.advertIntervalCentiseconds) / 100) on \(first.node)", at: at(m)))
                }
                if a.authType != b.authType || a.authPassword != b.authPassword {
                    out.append(.init(.error, "\(key): authentication differs between \(first.node) and \(m.node); adverts will be dropped", at: at(m)))
                }
                if Set(a.virtualAddresses.map(\.address)) != Set(b.virtualAddresses.map(\.address)) {
                    let x = a.virtualAddresses.map { "\($0.address)" }.joined(separator: " "), y = b.virtualAddresses.map { "\($0.address)" }.joined(separator: " ")
                    out.append(.init(.error, "\(key): virtual addresses differ: \(first.node) has [\(x)], \(m.node) has [\(y)]", at: at(m)))
                }
                if a.unicastPeers.isEmpty != b.unicastPeers.isEmpty {
                    out.append(.init(.error, "\(key): \(first.node) uses \(a.unicastPeers.isEmpty ? "multicast" : "unicast") but \(m.node) \(b.unicastPeers.isEmpty ? "multicast" : "unicast")", at: at(m)))
                }
            }
            let owners = members.filter { $0.instance.priority == 255 }
            if owners.count > 1 {
                out.append(.init(.error, "\(key): \(owners.map(\.node).joined(separator: " and ")) all claim priority 255 (address owner); only one node may", at: at(owners[1])))
            }
            let healthyPriorities = members.map(\.healthy)
            if Set(healthyPriorities).count != healthyPriorities.count {
                out.append(.init(.warning, "\(key): several nodes have the same healthy priority; the higher IP address wins ties", at: at(first)))
            }
            // The seed-002 trap: a master whose track script fails must fall below the
            // next node's healthy priority, or the VIP stays on a broken node.
            for m in members where !m.faultsOnFailure && hasScripts(m) {
                let others = members.filter { $0.node != m.node || $0.instance.name != m.instance.name }
                guard let best = others.map(\.healthy).max(), m.healthy > best else { continue }
                if m.failed >= best {
                    let weight = m.healthy - m.failed
                    out.append(.init(.warning, "\(key): when its track script fails, \(m.node) still has priority \(m.failed) >= \(best), the best healthy priority of the other nodes: the VIP will not move (priority gap \(m.healthy - best) is larger than the script weight \(weight))", at: at(m)))
                }
            }
        }
        return out
    }

    static func hasScripts(_ m: Member) -> Bool { !m.instance.trackScripts.isEmpty }
}
