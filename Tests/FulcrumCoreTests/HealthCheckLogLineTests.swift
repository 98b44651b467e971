import Testing
@testable import FulcrumCore

/// `option log-health-checks` lines: the health counter as HAProxy 2.6 shows it after
/// each check (measured with rise 2 fall 3 and a backup with rise 1 fall 1).
@Suite struct HealthCheckLogLineTests {
    @Test func counterAsHAProxyShowsIt() {
        var machine = HealthCheckStateMachine(rise: 2, fall: 3)
        var seen: [String] = []
        for passed in [false, true, true, false, false, false] {
            _ = passed ? machine.checkPassed() : machine.checkFailed()
            seen.append(machine.statusText())
        }
        #expect(seen == ["0/2 DOWN", "1/2 DOWN", "3/3 UP", "2/3 UP", "1/3 UP", "0/2 DOWN"])
        #expect(HealthCheckStateMachine(rise: 1, fall: 1, initial: .fullyUp).statusText(drained: true) == "1/1 DRAIN")
    }

    @Test func lines() {
        let refused = CheckResult(.l4connectionProblem, info: "Connection refused")
        #expect(HealthTransitionMessage.check(proxy: "b", server: "s2", backup: true, result: refused, status: "0/1 DOWN")
                == "Health check for backup server b/s2 failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms, status: 0/1 DOWN.")
        let counts = HealthTransitionMessage.Counts(activeUsable: 0, backupUsable: 1, sessionsOnServer: 0, queued: 0)
        #expect(HealthTransitionMessage.up(proxy: "b", server: "s2", backup: true, result: nil, counts: counts)
                == "Backup Server b/s2 is UP. 0 active and 1 backup servers online. Running on backup. 0 sessions requeued, 0 total in queue.")
    }
}
