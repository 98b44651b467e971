#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// One running `vrrp_instance`: its state machine, its sockets and what it needs to
/// carry out the machine's actions.
final class InstanceRuntime {
    var config: VRRPInstanceConfig
    var machine: VRRPInstanceStateMachine
    var filter: VRRPReceiveFilter
    /// The interface and what is bound to it; nil while the interface does not exist (or
    /// has no address to send from): the instance is then in FAULT, as in keepalived, and
    /// is attached when a link event (or the next housekeeping) finds it.
    private(set) var link: Link?
    let destinations: [IPAddress]
    let version: Int
    let global: GlobalDefinitions
    /// track_script entries of the sync groups this instance belongs to.
    var groupScripts: [TrackReference]
    var timers: [VRRPInstanceStateMachine.Timer: VRRPInstant] = [:]
    /// When the queued gratuitous ARP rounds are due (`vrrp_garp_interval`), earliest first.
    var announcementRounds: [VRRPInstant] = []
    var counters = InstanceCounters()
    var tracking: (priority: Int, fault: Bool)

    struct Link {
        let interface: NetworkInterface
        let source: IPAddress
        let socket: RawVRRPSocket
        let arp: ARPSender?
        let neighbourAdverts: NeighbourAdvertSender?
    }

    var socket: RawVRRPSocket? { link?.socket }
    var interface: NetworkInterface? { link?.interface }
    var arp: ARPSender? { link?.arp }
    var neighbourAdverts: NeighbourAdvertSender? { link?.neighbourAdverts }
    /// The advert source: the interface's, else `unicast_src_ip`, else the unspecified
    /// address while detached (nothing is sent then).
    var source: IPAddress { link?.source ?? config.unicastSourceIP ?? (config.isIPv6 ? IPAddress("::")! : IPAddress(v4: 0, 0, 0, 0)) }

    init(config: VRRPInstanceConfig, global: GlobalDefinitions, groupScripts: [TrackReference]) throws {
        self.config = config
        self.global = global
        self.groupScripts = groupScripts
        let ipv6 = config.isIPv6
        version = config.effectiveVersion(global)
        let group = ipv6 ? global.mcastGroup6 : global.mcastGroup4
        destinations = config.unicastPeers.isEmpty ? [group] : config.unicastPeers
        let auth: [UInt8] = config.authType == .pass ? VRRPAdvertisement.passwordBytes(config.authPassword) : [UInt8](repeating: 0, count: 8)
        filter = VRRPReceiveFilter(version: UInt8(version), virtualRouterID: UInt8(config.virtualRouterID), ipv6: ipv6,
                                   authType: config.authType == .pass ? 1 : 0, authData: auth,
                                   advertIntervalSeconds: UInt16(config.advertIntervalCentiseconds / 100),
                                   unicastPeers: Set(config.unicastPeers), unicastPeerTTL: config.unicastPeerTTL, ownAddresses: [])
        let unspecified = config.unicastSourceIP ?? (ipv6 ? IPAddress("::")! : IPAddress(v4: 0, 0, 0, 0))
        machine = VRRPInstanceStateMachine(configuration: InstanceRuntime.machineConfiguration(config, global: global, source: unspecified))
        tracking = (config.priority, false)
        _ = try attach()
    }

    /// The interface was deleted: its sockets are closed; `attach` binds the instance
    /// again when an interface of that name appears.
    func detach() {
        link = nil
        filter.ownAddresses = []
    }

    /// Binds the instance to its interface when it exists and has an address to send
    /// from; returns a reason when it cannot yet (socket errors are thrown).
    func attach() throws -> String? {
        if link != nil { return nil }
        let vips = Set(config.virtualAddresses.map(\.address) + config.excludedAddresses.map(\.address))
        guard let iface = NetworkInterface.lookup(config.interface, excluding: vips) else {
            return "interface \(config.interface) for vrrp_instance \(config.name) doesn't exist"
        }
        let ipv6 = config.isIPv6
        guard let src = config.unicastSourceIP ?? (ipv6 ? iface.linkLocalIPv6 : iface.primaryIPv4) else {
            return "no \(ipv6 ? "link-local IPv6" : "IPv4") address on \(config.interface) for vrrp_instance \(config.name)"
        }
        let group = ipv6 ? global.mcastGroup6 : global.mcastGroup4
        let socket = try RawVRRPSocket(interface: iface, source: src, group: config.unicastPeers.isEmpty ? group : nil, ipv6: ipv6,
                                       unicastTTL: config.unicastTTL)
        link = Link(interface: iface, source: src, socket: socket,
                    arp: ipv6 ? nil : try ARPSender(interfaceIndex: iface.index),
                    neighbourAdverts: ipv6 ? try NeighbourAdvertSender(interfaceIndex: iface.index) : nil)
        filter.ownAddresses = [src]
        machine.reconfigure(InstanceRuntime.machineConfiguration(config, global: global, source: src))
        return nil
    }

    var isIPv6Instance: Bool { config.isIPv6 }

    static func machineConfiguration(_ config: VRRPInstanceConfig, global: GlobalDefinitions, source: IPAddress) -> VRRPInstanceStateMachine.Configuration {
        .init(version: config.effectiveVersion(global), basePriority: config.priority, advertIntervalCentiseconds: config.advertIntervalCentiseconds,
              preempt: config.preempt, preemptDelayNanoseconds: Int64(config.preemptDelaySeconds * 1e9), localAddress: source,
              garpMasterDelaySeconds: config.garpMasterDelay ?? global.garpMasterDelay,
              garpMasterRepeat: config.garpMasterRepeat ?? global.garpMasterRepeat,
              garpMasterRefreshSeconds: config.garpMasterRefresh ?? global.garpMasterRefresh,
              garpMasterRefreshRepeat: global.garpMasterRefreshRepeat,
              higherPrioritySendAdvert: config.higherPrioritySendAdvert ?? global.higherPrioritySendAdvert,
              lowerPriorityNoAdvert: config.lowerPriorityNoAdvert ?? global.lowerPriorityNoAdvert,
              garpLowerPriorityRepeat: global.garpLowerPriorityRepeat)
    }

    /// What peers see of an instance besides its priority and addresses: a reload that
    /// keeps it can change the instance in place, without a failover.
    static func wireIdentity(_ c: VRRPInstanceConfig, global: GlobalDefinitions) -> String {
        "\(c.interface)|\(c.virtualRouterID)|\(c.isIPv6)|\(c.effectiveVersion(global))|\(c.advertIntervalCentiseconds)|\(c.authType)|\(c.authPassword)|"
            + "\(c.unicastSourceIP.map { "\($0)" } ?? "-")|\(c.unicastPeers.map { "\($0)" }.joined(separator: ","))"
    }

    func advert(priority: UInt8) -> VRRPAdvertisement {
        let interval = version == 3 ? UInt16(config.advertIntervalCentiseconds) : UInt16(config.advertIntervalCentiseconds / 100)
        if config.authType == .pass && version == 2 {
            return VRRPAdvertisement(version: UInt8(version), virtualRouterID: UInt8(config.virtualRouterID), priority: priority, advertInterval: interval,
                                     addresses: config.virtualAddresses.map(\.address), authType: 1, authData: VRRPAdvertisement.passwordBytes(config.authPassword))
        }
        return VRRPAdvertisement(version: UInt8(version), virtualRouterID: UInt8(config.virtualRouterID), priority: priority, advertInterval: interval,
                                 addresses: config.virtualAddresses.map(\.address))
    }

    /// Where a virtual address goes: its own `dev`, else the instance's interface.
    func interfaceIndex(for vip: VirtualAddress) -> Int32? {
        guard let dev = vip.device, dev != config.interface else { return interface?.index }
        return NetworkInterface.lookup(dev)?.index
    }
}
