#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// `track_process`, as keepalived does it: one scan of /proc at start-up, then the
/// kernel's process events (forks, execs, renames, exits) keep the counts, so a dead
/// service is seen as it dies. Without the events (no CAP_NET_ADMIN, a kernel without
/// CONFIG_PROC_EVENTS, a PID namespace of its own) /proc is scanned every 250 ms.
extension VRRPDaemon {
    /// At start-up and after a reload: the tracker for the configured items, the event
    /// socket when there is something to track, and a first scan.
    func startProcessTracking(now: VRRPInstant) {
        processes = ProcessTracker(definitions: configuration.trackProcesses)
        guard !processes.isEmpty else {
            processEvents = nil
            return
        }
        if processEvents == nil {
            do {
                let socket = try ProcessEventSocket.open()
                processEvents = socket
                logProcessTrackingMode("kernel process events (netlink proc connector\(socket.initialNamespace ? ", opened in the initial network namespace" : ""))")
            } catch {
                logProcessTrackingMode("scanning /proc every 250 ms: no kernel process events (\(error))")
            }
        }
        // After subscribing: whatever happens from here on arrives as an event.
        processes.scanned(TrackSources.processes(arguments: processes.needsArguments), initial: true, now: now)
        for (name, item) in processes.items.sorted(by: { $0.key < $1.key }) {
            log.info("Track process \(name): \(item.count) running, quorum \(item.up ? "up" : "down")")
        }
    }

    func logProcessTrackingMode(_ mode: String) {
        guard mode != processTrackingMode else { return }
        processTrackingMode = mode
        log.info("Process tracking: \(mode)")
    }

    /// The poll fallback, or the rescan after lost events.
    func rescanProcesses(now: VRRPInstant) -> Bool {
        processes.scanned(TrackSources.processes(arguments: processes.needsArguments), initial: false, now: now)
    }

    /// The event socket is readable.
    func handleProcessEvents() {
        guard let socket = processEvents else { return }
        let (events, overrun, failure) = socket.read()
        let now = MonotonicClock.now()
        var changed = false
        var buffer: [UInt8] = []
        for event in events {
            switch event {
            case .fork(let parent, let child):
                changed = processes.forked(parent: parent, child: child, now: now) || changed
            case .exec(let pid):
                // Every exec on the machine: its new name (or command line) is read.
                let arguments = processes.needsArguments
                if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: arguments ? TrackSources.commandLineLimit : TrackSources.statLimit) }
                guard let p = TrackSources.process(pid, arguments: arguments, buffer: &buffer) else { continue }
                changed = processes.execed(p, now: now) || changed
            case .comm(let pid, let name):
                changed = processes.renamed(pid: pid, comm: name, now: now) || changed
            case .exit(let pid):
                changed = processes.exited(pid: pid, now: now) || changed
            case .ack:
                break
            }
        }
        if let failure {
            log.error("Process tracking: \(failure)")
            processEvents = nil
            logProcessTrackingMode("scanning /proc every 250 ms: the process event socket failed")
            nextHousekeeping = now
        } else if overrun {
            // Events were lost: the counts are rebuilt, as keepalived does, with room
            // for more next time.
            socket.setReceiveBuffer(Int32(min(Int(socket.receiveBuffer) * 2, 64 << 20)))
            log.warning("Process tracking: events lost (receive buffer overrun); scanning /proc again, buffer now \(socket.receiveBuffer) bytes")
            changed = rescanProcesses(now: now) || changed
        }
        if changed { reevaluateAll(now: now) }
    }

    /// Whether a definition changed in a way that matters to the tracker (its place in
    /// the file does not).
    static func sameProcessTracking(_ a: [String: TrackProcessDefinition], _ b: [String: TrackProcessDefinition]) -> Bool {
        let here = SourceLocation(file: "", line: 0)
        return a.mapValues { var d = $0; d.location = here; return d } == b.mapValues { var d = $0; d.location = here; return d }
    }
}
