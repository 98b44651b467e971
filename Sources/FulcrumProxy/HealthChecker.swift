#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore
import NIOPosix

/// Checks one server for ever on one event loop: connects, lets a `CheckProbe` hold
/// the conversation, feeds the verdict to the server's health state machine, and on
/// a transition tells the backend (so balancing skips or takes the server again) and
/// logs HAProxy's line. The next check is scheduled from the state's pace: `inter`,
/// `fastinter` while moving, `downinter` while down, spread by `spread-checks`.
final class HealthChecker {
    struct Timing {
        var inter: TimeAmount
        var fastinter: TimeAmount
        var downinter: TimeAmount
        var connectTimeout: TimeAmount
        /// `timeout check` once connected; without it the whole check has `inter`.
        var readTimeout: TimeAmount?
        var spreadPercent: Int
    }

    let loop: EventLoop
    let pool: BackendPool
    let server: Int
    let plan: HealthCheckPlan
    let address: SocketAddress
    let timing: Timing
    let log: ProxyRuntime.Log
    private var machine: HealthCheckStateMachine
    private var task: Scheduled<Void>?
    private var stopped = false
    /// `slowstart`: the weight ramp after the server came back.
    private var ramp: Scheduled<Void>?
    /// Checks run so far (tests and the measurement of check cost read it).
    private(set) var checks = 0

    init(loop: EventLoop, pool: BackendPool, server: Int, plan: HealthCheckPlan, address: SocketAddress, timing: Timing,
         initial: HealthCheckStateMachine.InitialState, log: @escaping ProxyRuntime.Log) {
        self.loop = loop
        self.pool = pool
        self.server = server
        self.plan = plan
        self.address = address
        self.timing = timing
        self.log = log
        let options = pool.serverConfigs[server].options
        self.machine = HealthCheckStateMachine(rise: options.rise, fall: options.fall, initial: initial)
        if !machine.isUp { _ = pool.setOperational(server, up: false) }
    }

    /// The first check comes at a random point of the first interval, so that many
    /// servers are not all checked at the same instant.
    func start() {
        let first = Int64.random(in: 0..<max(1, timing.inter.nanoseconds))
        schedule(after: .nanoseconds(first))
    }

    func stop() {
        stopped = true
        task?.cancel()
        task = nil
    }

    private func schedule(after delay: TimeAmount) {
        guard !stopped else { return }
        task = loop.assumeIsolated().scheduleTask(in: delay) { self.run() }
    }

    private func run() {
        task = nil
        checks += 1
        let started = loop.now
        let conversation = plan.conversation()
        let readTimeout = timing.readTimeout ?? timing.inter
        let proxyLine = plan.sendProxy
        let me = NIOLoopBound(self, eventLoop: loop)
        ClientBootstrap(group: loop)
            .connectTimeout(timing.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let probe = CheckProbe(conversation: conversation, readTimeout: readTimeout, proxyLine: proxyLine) { result in
                        me.value.finished(result, started: started)
                    }
                    try channel.pipeline.syncOperations.addHandler(probe)
                }
            }
            .connect(to: address)
            .hop(to: loop)
            .assumeIsolated()
            .whenFailure { error in
                self.finished(Self.connectFailure(error), started: started)
            }
    }

    /// HAProxy's words for a failed connect: a timeout, or the system's reason.
    static func connectFailure(_ error: Error) -> CheckResult {
        if case ChannelError.connectTimeout = error { return CheckResult(.l4timeout) }
        var errnoCode: Int32?
        if let io = error as? IOError {
            errnoCode = io.errnoCode
        } else if let multi = error as? NIOConnectionError {
            for failure in multi.connectionErrors {
                if case ChannelError.connectTimeout = failure.error { return CheckResult(.l4timeout) }
                if let io = failure.error as? IOError { errnoCode = io.errnoCode }
            }
            if multi.connectionErrors.isEmpty, multi.dnsAAAAError == nil, multi.dnsAError == nil { return CheckResult(.l4timeout) }
        }
        guard let errnoCode else { return CheckResult(.socketError, info: "\(error)") }
        if errnoCode == ETIMEDOUT { return CheckResult(.l4timeout) }
        return CheckResult(.l4connectionProblem, info: String(cString: strerror(errnoCode)))
    }

    private func finished(_ result: CheckResult, started: NIODeadline) {
        guard !stopped else { return }
        var result = result
        result.durationMilliseconds = Int((loop.now - started).nanoseconds / 1_000_000)
        let transition = result.status.passed ? machine.checkPassed() : machine.checkFailed()
        if let transition { report(transition, result) }
        schedule(after: nextInterval())
    }

    private func report(_ transition: HealthCheckStateMachine.Transition, _ result: CheckResult) {
        let config = pool.serverConfigs[server]
        let up = transition == .wentUp
        if up, let slowstart = config.options.slowstart, slowstart.milliseconds > 0 {
            // Back from DOWN: the weight climbs from a little to the full value over
            // `slowstart`, so a cold server is not flooded at once.
            startRamp(over: .milliseconds(Int64(slowstart.milliseconds)), weight: config.options.weight)
        } else if !up {
            ramp?.cancel()
            ramp = nil
        }
        let counts = pool.setOperational(server, up: up)
        let proxy = pool.name, name = config.name, backup = config.options.backup
        if up {
            log(.warning, HealthTransitionMessage.up(proxy: proxy, server: name, backup: backup, result: result, counts: counts))
        } else {
            log(.warning, HealthTransitionMessage.down(proxy: proxy, server: name, backup: backup, result: result, counts: counts))
            if counts.activeUsable == 0 && counts.backupUsable == 0 {
                log(.alert, HealthTransitionMessage.noServerAvailable(kind: pool.kindLabel, proxy: proxy))
            }
        }
    }

    private func startRamp(over duration: TimeAmount, weight: Int) {
        ramp?.cancel()
        let began = loop.now
        let step = TimeAmount.nanoseconds(max(100_000_000, duration.nanoseconds / 20))
        func apply() {
            let elapsed = loop.now - began
            let full = elapsed >= duration
            let current = full ? weight : max(1, Int(Int64(weight) * elapsed.nanoseconds / max(1, duration.nanoseconds)))
            pool.setWeight(server, current)
            ramp = full ? nil : loop.assumeIsolated().scheduleTask(in: step) { apply() }
        }
        apply()
    }

    private func nextInterval() -> TimeAmount {
        let base: TimeAmount
        switch machine.pace {
        case .steadyUp: base = timing.inter
        case .transitional: base = timing.fastinter
        case .steadyDown: base = timing.downinter
        }
        guard timing.spreadPercent > 0 else { return base }
        let spread = base.nanoseconds * Int64(timing.spreadPercent) / 100
        return .nanoseconds(max(1_000_000, base.nanoseconds + Int64.random(in: -spread...spread)))
    }
}
