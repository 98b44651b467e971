import Testing
import Foundation
import KeepalivedConfig
import VRRP
@testable import VRRPDaemon

/// A tracker with its calls timed in seconds from t0; a class, so that `#expect` can
/// call what changes it.
final class Tracking {
    var t: ProcessTracker
    let t0 = VRRPInstant(nanoseconds: 1_000_000_000)

    init(_ definitions: [String: TrackProcessDefinition], scan: [ProcessTracker.Process]) {
        t = ProcessTracker(definitions: definitions)
        t.scanned(scan, initial: true, now: t0)
    }

    func at(_ seconds: Double) -> VRRPInstant { t0 + Int64(seconds * 1e9) }
    func up(_ name: String) -> Bool { t.up(name) }
    func count(_ name: String) -> Int? { t.items[name]?.count }
    var deadline: VRRPInstant? { t.nextDeadline }
    var counted: [pid_t: Set<String>] { t.counted }
    func scan(_ processes: [ProcessTracker.Process], _ s: Double = 0) -> Bool { t.scanned(processes, initial: false, now: at(s)) }
    func forked(_ parent: pid_t, _ child: pid_t, _ s: Double = 0) -> Bool { t.forked(parent: parent, child: child, now: at(s)) }
    func exec(_ pid: pid_t, _ comm: String, _ s: Double = 0) -> Bool { t.execed(.init(pid: pid, comm: comm), now: at(s)) }
    func renamed(_ pid: pid_t, _ comm: String, _ s: Double = 0) -> Bool { t.renamed(pid: pid, comm: comm, now: at(s)) }
    func exited(_ pid: pid_t, _ s: Double = 0) -> Bool { t.exited(pid: pid, now: at(s)) }
    func fire(_ s: Double) -> Bool { t.fireDue(now: at(s)) }
}

/// track_process counts kept from a scan and then events, with keepalived's delays.
@Suite struct ProcessTrackerTests {
    typealias P = ProcessTracker.Process

    func item(_ process: String = "svc", quorum: Int = 1, max: Int? = nil, terminate: Double = 0, fork: Double = 0) -> TrackProcessDefinition {
        var d = TrackProcessDefinition(name: "t", location: SourceLocation(file: "k.conf", line: 1))
        d.process = process
        d.quorum = quorum
        d.quorumMax = max
        d.terminateDelaySeconds = terminate
        d.forkDelaySeconds = fork
        return d
    }

    @Test func scanThenExitsExecsAndRenames() {
        let k = Tracking(["svc": item()], scan: [P(pid: 10, comm: "svc"), P(pid: 11, comm: "bash"), P(pid: 12, comm: "svc")])
        #expect(k.t.needsComm && !k.t.needsArguments)
        #expect(k.up("svc") && k.count("svc") == 2)
        #expect(k.counted == [10: ["svc"], 12: ["svc"]])
        #expect(!k.exited(10))
        #expect(!k.exited(11), "not counted")
        #expect(k.exited(12))
        #expect(!k.up("svc") && k.count("svc") == 0)
        #expect(!k.exited(12), "an exit is counted once")
        // A new process: exec'd under the name, then renamed away and back.
        #expect(k.exec(20, "svc"))
        #expect(k.up("svc"))
        #expect(!k.exec(20, "svc"), "exec'ing itself again changes nothing")
        #expect(k.count("svc") == 1)
        #expect(k.renamed(20, "svc-old"))
        #expect(!k.up("svc"))
        #expect(k.renamed(20, "svc"))
        #expect(k.up("svc"))
        // An exec into something else is not an exit: at once, whatever the delays.
        #expect(k.exec(20, "sleep"))
        #expect(!k.up("svc") && k.counted.isEmpty)
    }

    @Test func terminateDelayWaitsAndARestartCancelsIt() {
        let k = Tracking(["svc": item(terminate: 0.5)], scan: [P(pid: 10, comm: "svc")])
        #expect(!k.exited(10))
        #expect(k.up("svc") && k.deadline == k.at(0.5))
        #expect(!k.fire(0.4))
        #expect(k.fire(0.5))
        #expect(!k.up("svc") && k.deadline == nil)
        // Back, then dead and restarted within the delay: never seen down.
        #expect(k.exec(30, "svc", 1))
        #expect(!k.exited(30, 2))
        #expect(!k.exec(31, "svc", 2.1))
        #expect(k.deadline == nil)
        #expect(!k.fire(3))
        #expect(k.up("svc"))
    }

    /// keepalived's other use of terminate_delay: a worker dies and the master forks
    /// another before the delay ends.
    @Test func aForkUndoesAWaitingExit() {
        let k = Tracking(["svc": item(quorum: 2, terminate: 1)], scan: [P(pid: 10, comm: "svc"), P(pid: 11, comm: "svc")])
        #expect(k.up("svc"))
        #expect(!k.exited(11))
        #expect(k.deadline == k.at(1))
        #expect(!k.forked(10, 12, 0.2))
        #expect(k.deadline == nil && k.up("svc") && k.count("svc") == 2)
    }

    @Test func forkDelayWaitsForTheChild() {
        // quorum 2, one running: its fork makes two, counted after fork_delay.
        let k = Tracking(["svc": item(quorum: 2, fork: 1)], scan: [P(pid: 10, comm: "svc")])
        #expect(!k.up("svc"))
        #expect(!k.forked(10, 11))
        #expect(!k.up("svc") && k.deadline == k.at(1))
        #expect(k.fire(1))
        #expect(k.up("svc"))
        #expect(k.exited(11, 2))
        #expect(!k.up("svc"))
        // A child that exits within the delay undoes its fork: nothing seen.
        #expect(!k.forked(10, 12, 3))
        #expect(!k.exited(12, 3.5))
        #expect(k.deadline == nil && !k.up("svc"))
    }

    /// quorum_max 1 and a fork/exec: the child briefly makes two.
    @Test func quorumMaxAndAForkThatExecsSomethingElse() {
        let delayed = Tracking(["svc": item(max: 1, fork: 0.5)], scan: [P(pid: 10, comm: "svc")])
        #expect(!delayed.forked(10, 11))
        #expect(delayed.up("svc"))
        #expect(!delayed.exec(11, "sh", 0.01))
        #expect(delayed.up("svc") && delayed.deadline == nil)
        // Without fork_delay the bounce shows.
        let plain = Tracking(["svc": item(max: 1)], scan: [P(pid: 10, comm: "svc")])
        #expect(plain.forked(10, 11))
        #expect(!plain.up("svc"))
        #expect(plain.exec(11, "sh", 0.01))
        #expect(plain.up("svc"))
    }

    @Test func quorumMaxZeroIsUpWhileNoneRuns() {
        var d = item(max: 0)
        d.quorum = 0
        let k = Tracking(["none": d], scan: [P(pid: 1, comm: "init")])
        #expect(k.up("none"))
        #expect(k.exec(40, "svc"))
        #expect(!k.up("none"))
        #expect(k.exited(40))
        #expect(k.up("none"))
    }

    /// Events that arrive after the scan already saw their result change nothing.
    @Test func eventsOverlappingTheScanAreNotCountedTwice() {
        let k = Tracking(["svc": item(quorum: 3)], scan: [P(pid: 10, comm: "svc"), P(pid: 11, comm: "svc")])
        #expect(!k.forked(10, 11))
        #expect(!k.exec(11, "svc"))
        #expect(!k.forked(99, 100), "an untracked parent")
        #expect(k.count("svc") == 2 && !k.up("svc"))
    }

    /// The poll fallback and the rescan after an overrun: a regained quorum counts at
    /// once, a lost one after terminate_delay.
    @Test func rescans() {
        let k = Tracking(["svc": item(terminate: 0.5), "other": item("other")], scan: [P(pid: 10, comm: "svc"), P(pid: 11, comm: "other")])
        #expect(!k.scan([P(pid: 11, comm: "other")]))
        #expect(k.up("svc") && k.deadline == k.at(0.5))
        #expect(!k.scan([P(pid: 11, comm: "other")], 0.25))
        #expect(k.deadline == k.at(0.5), "a later scan does not restart the wait")
        #expect(k.fire(0.5))
        #expect(!k.up("svc"))
        #expect(k.scan([P(pid: 12, comm: "svc")], 1))
        #expect(k.up("svc") && !k.up("other"))
        #expect(k.counted == [12: ["svc"]])
    }

    @Test func commandLinesAndSeveralItemsPerProcess() {
        var app = item("/usr/bin/python3")
        app.fullCommand = true
        app.parameters = ["app.py"]
        app.parameterMatch = .exact
        let k = Tracking(["app": app, "py": item("python3"), "two": item("python3", quorum: 2)],
                         scan: [P(pid: 5, comm: "python3", arguments: ["/usr/bin/python3", "app.py"]),
                                P(pid: 6, comm: "python3", arguments: ["/usr/bin/python3", "other.py"])])
        #expect(k.t.needsComm && k.t.needsArguments)
        #expect(k.up("app") && k.up("py") && k.up("two"))
        #expect(k.counted[5] == ["app", "py", "two"] && k.counted[6] == ["py", "two"])
        // A rename concerns names, not command lines.
        #expect(k.renamed(5, "worker"))
        #expect(k.up("app") && k.up("py") && !k.up("two"))
        #expect(k.counted[5] == ["app"])
        #expect(k.exited(5))
        #expect(!k.up("app") && k.up("py"))
    }
}
