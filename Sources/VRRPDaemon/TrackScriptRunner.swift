#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KeepalivedConfig
import VRRP

/// One `vrrp_script`: runs it every interval (never two at once), kills it at its
/// timeout, and turns exit statuses into up/down with rise and fall.
final class TrackScriptRunner {
    var definition: TrackScriptDefinition
    let argv: [String]
    /// Whom the script runs as (nil: the daemon's own user).
    let credentials: ScriptCredentials?
    private(set) var up: Bool
    private var successes = 0
    private var failures = 0
    var runningPID: pid_t?
    var nextRun: VRRPInstant
    var killDeadline: VRRPInstant?
    var timedOut = false
    private(set) var runs = 0
    private(set) var timeouts = 0

    init(definition: TrackScriptDefinition, credentials: ScriptCredentials? = nil, now: VRRPInstant) {
        self.definition = definition
        self.argv = ChildProcess.words(definition.script)
        self.credentials = credentials
        self.up = !definition.initFail
        self.nextRun = now
    }

    var intervalNanoseconds: Int64 { Int64(definition.intervalSeconds * 1e9) }

    /// The earliest moment this runner needs the loop's attention.
    var nextDeadline: VRRPInstant {
        if let killDeadline { return killDeadline }
        // Killed but not reaped yet: SIGCHLD wakes the loop, nothing to wait for here.
        if runningPID != nil { return VRRPInstant(nanoseconds: .max) }
        return nextRun
    }

    /// Starts the script when due; returns an error text when it cannot be started.
    func startIfDue(now: VRRPInstant) -> String? {
        guard runningPID == nil, now >= nextRun else { return nil }
        nextRun = now + intervalNanoseconds
        do {
            runningPID = try ChildProcess.spawn(argv, as: credentials)
            killDeadline = now + Int64(definition.effectiveTimeoutSeconds * 1e9)
            timedOut = false
            runs += 1
            return nil
        } catch {
            _ = record(success: false)
            return "\(error)"
        }
    }

    /// Kills a script past its timeout (its whole process group); the exit is reaped later.
    func killIfOverdue(now: VRRPInstant) -> Bool {
        guard let pid = runningPID, let deadline = killDeadline, now >= deadline else { return false }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        timedOut = true
        timeouts += 1
        killDeadline = nil
        return true
    }

    /// The script ended; returns true when its up/down state changed.
    func finished(status: Int32) -> Bool {
        runningPID = nil
        killDeadline = nil
        let exitedZero = (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0
        return record(success: exitedZero && !timedOut)
    }

    private func record(success: Bool) -> Bool {
        if success {
            failures = 0
            successes += 1
            if !up && successes >= definition.rise { up = true; return true }
        } else {
            successes = 0
            failures += 1
            if up && failures >= definition.fall { up = false; return true }
        }
        return false
    }
}
