import FulcrumCore
import Synchronization
import NIOCore

/// Frontends, process limits and counters from the runtime API: `disable|enable|shutdown
/// frontend`, `set maxconn frontend|global`, `set rate-limit`, `clear counters [all]`,
/// answered in HAProxy 2.6's words.
extension RuntimeAPI {
    static let proxyCommands: [Command] = [
        Command(words: ["disable", "frontend"], arguments: "<frontend>", level: .admin, help: "stop accepting on a frontend's listeners",
                answer: { api, args, loop in api.switchFrontend(args, to: .paused, on: loop) }),
        Command(words: ["enable", "frontend"], arguments: "<frontend>", level: .admin, help: "accept again on a disabled frontend's listeners",
                answer: { api, args, loop in api.switchFrontend(args, to: .open, on: loop) }),
        Command(words: ["shutdown", "frontend"], arguments: "<frontend>", level: .admin, help: "close a frontend's listeners for good",
                answer: { api, args, loop in api.switchFrontend(args, to: .stopped, on: loop) }),
        Command(words: ["set", "maxconn", "frontend"], arguments: "<frontend> <value>", level: .admin, help: "change a frontend's maxconn", run: { api, args in
            guard let name = args.first else { return "A frontend name is expected.\n" }
            guard let frontend = api.frontend(name) else { return "No such frontend.\n" }
            guard args.count > 1, let value = Int(args[1]) else { return "Integer value expected.\n" }
            guard value >= 0 else { return "Value out of range.\n" }
            frontend.limit.setLimit(value)
            return ""
        }),
        Command(words: ["set", "maxconn", "global"], arguments: "<value>", level: .admin, help: "change the process's maxconn (0: the configured one)", run: { api, args in
            guard let value = args.first.flatMap({ Int($0) }) else { return "Expects an integer value.\n" }
            let limit = api.stats.processLimit
            // HAProxy allows up to the configured value; without one Fulcrum has no ceiling.
            guard value >= 0, value <= limit.initial else { return "Value out of range.\n" }
            limit.setLimit(value == 0 ? limit.initial : value)
            return ""
        }),
        Command(words: ["set", "rate-limit"], arguments: "<setting> global <value>", level: .admin, help: "change a rate limit (not supported)", run: { _, args in
            let known = ["connections", "sessions", "ssl-sessions", "http-compression"]
            guard args.count == 3, known.contains(args[0]), args[1] == "global" else {
                return "'set rate-limit' only supports :\n"
                    + "   - 'connections global' to set the per-process maximum connection rate\n"
                    + "   - 'sessions global' to set the per-process maximum session rate\n"
                    + "   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n"
                    + "   - 'http-compression global' to set the per-process maximum compression speed in kB/s\n"
            }
            return "Rate limits are not supported by Fulcrum yet.\n"
        }),
        Command(words: ["clear", "counters"], arguments: "", level: .operator, help: "clear the maxima of the statistics counters", run: { api, _ in
            api.clearCounters(all: false)
        }),
        Command(words: ["clear", "counters", "all"], arguments: "", level: .admin, help: "clear every statistics counter", run: { api, _ in
            api.clearCounters(all: true)
        }),
    ]

    /// A frontend by name, or by `#<id>` as HAProxy accepts.
    func frontend(_ name: String) -> FrontendStats? {
        if name.hasPrefix("#"), let id = Int(name.dropFirst()) {
            return stats.proxies.first { $0.id == id }?.frontend
        }
        return stats.proxy(named: name)?.frontend
    }

    func switchFrontend(_ args: [String], to wanted: FrontendControl.State, on loop: EventLoop) -> Reply {
        guard let name = args.first else { return .text("A frontend name is expected.\n") }
        guard let frontend = frontend(name), let runtime = runtime.runtime else { return .text("No such frontend.\n") }
        let control = frontend.control
        switch (control.state, wanted) {
        case (.stopped, .stopped): return .text("Frontend was already shut down.\n")
        case (.stopped, .paused): return .text("Frontend was previously shut down, cannot disable.\n")
        case (.stopped, .open): return .text("Frontend was previously shut down, cannot enable.\n")
        case (.paused, .paused): return .text("All sockets are already disabled.\n")
        case (.open, .open): return .text("All sockets are already enabled.\n")
        default: break
        }
        control.set(wanted)
        switch wanted {
        case .paused:
            return .later(runtime.pauseFrontend(frontend.name, on: loop).map { "" })
        case .stopped:
            return .later(runtime.shutdownFrontend(frontend.name, on: loop).map { "" })
        case .open:
            return .later(runtime.resumeFrontend(frontend.name, on: loop).map { resumed in
                if !resumed { control.set(.paused) }
                return resumed ? "" : "Failed to resume frontend, check logs for precise cause (port conflict?).\n"
            })
        }
    }

    /// `clear counters`: the maxima (peaks of sessions, queues and rates); with `all`,
    /// every counter, as after a restart.
    func clearCounters(all: Bool) -> String {
        stats.processConnections.resetPeak()
        for proxy in stats.proxies {
            if let frontend = proxy.frontend {
                frontend.counters.clear(all: all)
                frontend.connections.resetPeak()
            }
            if let pool = proxy.backend {
                pool.counters.clear(all: all)
                pool.clearPeaks()
                if all { pool.backendDownTransitions.store(0, ordering: .relaxed) }
                for (k, counters) in pool.serverCounters.enumerated() {
                    counters.clear(all: all)
                    if all {
                        pool.updateHealthRecord(k) { record in
                            record.failedChecks = 0
                            record.downTransitions = 0
                        }
                    }
                }
            }
        }
        return ""
    }
}
