#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// Packets, link events, signals and exited children, turned into state machine inputs.
extension VRRPDaemon {
    func receive(on i: InstanceRuntime) {
        guard let socket = i.socket else { return }
        while let packet = socket.receive(malformed: &i.counters.malformedIP) {
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
                if reason == .badTTL {
                    // keepalived's lines.
                    if let range = i.filter.unicastPeerTTL[packet.source] {
                        log.debug("(\(i.config.name)) TTL/HL \(packet.ttl) not in range \(range.min) - \(range.max)")
                    } else {
                        log.debug("(\(i.config.name)) invalid TTL/HL. Received \(packet.ttl) and expect 255")
                    }
                } else if reason != .ownAdvert {
                    log.debug("(\(i.config.name)) dropped packet from \(packet.source): \(reason.rawValue)")
                }
            }
        }
    }

    func handleLinkEvents() {
        var changed = false
        for event in netlink.readLinkEvents() {
            if event.deleted, let name = interfaceNames[event.index] {
                interfaceNames[event.index] = nil
                linkUp[name] = false
                log.info("Netlink reports \(name) removed")
                for i in instances where i.interface?.index == event.index { i.detach() }
                changed = true
                continue
            }
            if interfaceNames[event.index] == nil {
                // A new interface: one an instance or track_interface waits for?
                var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
                if if_indextoname(UInt32(bitPattern: event.index), &buffer) != nil {
                    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if watchedInterfaces.contains(name) {
                        interfaceNames[event.index] = name
                        log.info("Netlink reports \(name) added")
                    }
                }
                if attachDetached() { changed = true }
            }
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
                reload()
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
}
