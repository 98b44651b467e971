#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// keepalived's SIGUSR1 data and SIGUSR2 statistics dumps.
extension VRRPDaemon {
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
            for r in i.config.trackProcesses { out += "   Tracked process = \(r.name) \(processes.up(r.name) ? "UP" : "DOWN")\n" }
        }
        if !processes.isEmpty {
            out += "------< VRRP Track processes >------\n"
            out += " Process tracking = \(processTrackingMode ?? "")\n"
            for (name, item) in processes.items.sorted(by: { $0.key < $1.key }) {
                let d = item.definition
                out += " VRRP Track process = \(name)\n"
                out += "   Process = \(([d.process] + (d.parameters ?? [])).joined(separator: " "))\n"
                out += "   Min processes = \(d.quorum)\n"
                out += "   Max processes = \(d.quorumMax.map(String.init) ?? "unlimited")\n"
                out += "   Current processes = \(item.count)\n"
                out += "   Have quorum = \(item.up ? "true" : "false")\n"
                out += "   Weight = \(d.weight.value)\(d.weight.reverse ? " reverse" : "")\n"
                out += "   Terminate delay = \(d.terminateDelaySeconds)s\n"
                out += "   Fork delay = \(d.forkDelaySeconds)s\n"
                out += "   Full command = \(d.fullCommand ? "true" : "false")\n"
                out += "   Param match = \(d.parameterMatch?.rawValue ?? "none")\n"
            }
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
