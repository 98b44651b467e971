#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore
import NIOPosix

/// Watches one server for ever on one event loop. Its health check (when `check` is
/// set) feeds the health state machine; its agent (`agent-check`) may change the
/// weight, drain it, put it in maintenance or mark it down. The server is in the
/// rotation while its checks say UP, its agent does not say down and it is not in
/// maintenance; each change is handed to the backend and logged in HAProxy's words.
/// Probes run on the loop, never on a client's request path.
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

    struct Agent {
        var address: SocketAddress
        var inter: TimeAmount
        var send: String?
    }

    let loop: EventLoop
    let pool: BackendPool
    let server: Int
    let plan: HealthCheckPlan?
    let address: SocketAddress
    let timing: Timing
    let agent: Agent?
    let log: ProxyRuntime.Log
    private var machine: HealthCheckStateMachine
    private var task: Scheduled<Void>?
    private var agentTask: Scheduled<Void>?
    private var stopped = false
    /// `slowstart`: the weight ramp after the server came back.
    private var ramp: Scheduled<Void>?

    // What the agent said last.
    private var agentSaysUp = true
    private var maintenance = false
    private var draining = false
    private var weightPercent = 100
    /// What the backend was last told.
    private var inRotation = true
    /// `observe`: consecutive errors seen on real traffic.
    private var consecutiveErrors = 0
    /// `disable health` / `disable agent`: not run, and their verdicts do not count.
    private var healthDisabled = false
    private var agentDisabled = false

    init(loop: EventLoop, pool: BackendPool, server: Int, plan: HealthCheckPlan?, address: SocketAddress, timing: Timing,
         agent: Agent?, initial: HealthCheckStateMachine.InitialState, log: @escaping ProxyRuntime.Log) {
        self.loop = loop
        self.pool = pool
        self.server = server
        self.plan = plan
        self.address = address
        self.timing = timing
        self.agent = agent
        self.log = log
        let options = pool.serverConfigs[server].options
        self.machine = HealthCheckStateMachine(rise: options.rise, fall: options.fall, initial: plan == nil ? .fullyUp : initial)
        let position = machine.health
        pool.updateHealthRecord(server) { $0.health = position }
        if !machine.isUp {
            inRotation = false
            _ = pool.setOperational(server, up: false)
        }
    }

    var config: ServerConfig { pool.serverConfigs[server] }

    /// The first probes come at a random point of the first interval, so that many
    /// servers are not all checked at the same instant.
    func start() {
        let me = NIOLoopBound(self, eventLoop: loop)
        pool.setCheckControl(server) { order in me.eventLoop.submit { me.value.obey(order) } }
        if plan != nil && pool.observedLayer[server] != nil {
            let me = NIOLoopBound(self, eventLoop: loop)
            pool.setObserver(server) { ok, what in me.eventLoop.execute { me.value.observed(ok, what) } }
        }
        if plan != nil {
            task = loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64.random(in: 0..<max(1, timing.inter.nanoseconds)))) { self.runCheck() }
        }
        if let agent {
            agentTask = loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64.random(in: 0..<max(1, agent.inter.nanoseconds)))) { self.runAgent() }
        }
    }

    func stop() {
        stopped = true
        task?.cancel()
        agentTask?.cancel()
        ramp?.cancel()
    }

    // MARK: - probes

    private func probe(_ target: SocketAddress, _ conversation: any CheckConversation, connectTimeout: TimeAmount, readTimeout: TimeAmount,
                       proxyLine: Bool, done: @escaping (CheckResult) -> Void) {
        let started = loop.now
        let me = NIOLoopBound(done, eventLoop: loop)
        let loop = self.loop
        func finish(_ result: CheckResult) {
            var result = result
            result.durationMilliseconds = Int((loop.now - started).nanoseconds / 1_000_000)
            me.value(result)
        }
        let boundFinish = NIOLoopBound(finish, eventLoop: loop)
        ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let probe = CheckProbe(conversation: conversation, readTimeout: readTimeout, proxyLine: proxyLine) { result in
                        boundFinish.value(result)
                    }
                    try channel.pipeline.syncOperations.addHandler(probe)
                }
            }
            .connect(to: target)
            .hop(to: loop)
            .assumeIsolated()
            .whenFailure { error in finish(Self.connectFailure(error)) }
    }

    /// One check at a time: `observed()` may ask for the next one sooner, never for a
    /// second one alongside.
    private var probeInFlight = false
    private var checkSoon = false

    private func runCheck() {
        task = nil
        guard let plan, !stopped, !healthDisabled else { return }
        probeInFlight = true
        probe(pool.addresses.check(server) ?? address, plan.conversation(), connectTimeout: timing.connectTimeout, readTimeout: timing.readTimeout ?? timing.inter,
              proxyLine: plan.sendProxy) { result in
            self.probeInFlight = false
            guard !self.stopped, !self.healthDisabled else { return }
            let before = self.machine.health
            let transition = result.status.passed ? self.machine.checkPassed() : self.machine.checkFailed()
            self.pool.recordCheck(self.server, result, health: self.machine.health)
            if self.pool.logHealthChecks && self.machine.health != before {
                self.event(5, HealthTransitionMessage.check(proxy: self.pool.name, server: self.config.name, backup: self.config.options.backup,
                                                            result: result, status: self.machine.statusText(drained: self.draining)))
            }
            if transition != nil { self.reconsider(result: result) }
            self.scheduleCheck(in: self.checkSoon ? self.timing.fastinter : self.nextInterval())
            self.checkSoon = false
        }
    }

    private func scheduleCheck(in delay: TimeAmount) {
        task?.cancel()
        task = loop.assumeIsolated().scheduleTask(in: delay) { self.runCheck() }
    }

    private func runAgent() {
        agentTask = nil
        guard let agent, !stopped, !agentDisabled else { return }
        probe(pool.addresses.agent(server) ?? agent.address, AgentConversation(send: agent.send), connectTimeout: min(timing.connectTimeout, agent.inter),
              readTimeout: timing.readTimeout ?? agent.inter, proxyLine: false) { result in
            guard !self.stopped, !self.agentDisabled else { return }
            // An agent that cannot be reached changes nothing: reachability is the
            // health check's business.
            if result.status.passed, let line = result.info { self.apply(AgentReply.parse(Array(line.utf8))) }
            self.agentTask = self.loop.assumeIsolated().scheduleTask(in: agent.inter) { self.runAgent() }
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

    // MARK: - passive health (`observe`)

    /// Real traffic's outcome. `error-limit` consecutive errors trigger `on-error`:
    /// `fastinter` only checks sooner, `fail-check` (the default) counts as a failed
    /// check, `sudden-death` leaves one failure before DOWN, `mark-down` takes the server
    /// DOWN at once; each also checks again at `fastinter`.
    private func observed(_ ok: Bool, _ what: String) {
        guard !stopped else { return }
        if ok {
            consecutiveErrors = 0
            return
        }
        consecutiveErrors += 1
        let options = config.options
        guard consecutiveErrors >= (options.errorLimit ?? 10) else { return }
        let cause = "Health analyze, info: \"Detected \(consecutiveErrors) consecutive errors, last one was: \(what)\""
        consecutiveErrors = 0
        switch options.onError ?? "fail-check" {
        case "fastinter":
            break
        case "sudden-death":
            machine.suddenDeath()
        case "mark-down":
            if machine.markDown() != nil { reconsider(result: nil, cause: cause) }
        default:
            if machine.checkFailed() != nil { reconsider(result: nil, cause: cause) }
        }
        if probeInFlight {
            checkSoon = true
        } else {
            scheduleCheck(in: timing.fastinter)
        }
    }

    // MARK: - the agent's word

    private func apply(_ reply: AgentReply) {
        let name = config.name, proxy = pool.name
        if let limit = reply.maxconn { pool.setMaxconn(server, limit) }
        if let percent = reply.weightPercent, percent != weightPercent {
            weightPercent = percent
            applyWeight()
        }
        switch reply.administrative {
        case .drain? where !draining:
            draining = true
            applyWeight()
            let counts = pool.setOperational(server, up: inRotation)
            event(5, "Server \(proxy)/\(name) enters drain state. \(counts.activeUsable) active and \(counts.backupUsable) backup servers online. 0 sessions requeued, \(counts.queued) total in queue.")
        case .maint? where !maintenance:
            maintenance = true
            reconsider(result: nil, cause: "maintenance")
        case .ready? where maintenance || draining:
            let leaving = maintenance ? "maintenance" : "drain"
            maintenance = false
            draining = false
            applyWeight()
            event(5, "Server \(proxy)/\(name) is UP/READY (leaving forced \(leaving)).")
            reconsider(result: nil, quiet: true)
        default:
            break
        }
        switch reply.operational {
        case .up? where !agentSaysUp:
            agentSaysUp = true
            reconsider(result: nil, cause: "agent")
        case .down(let word, let description)? where agentSaysUp:
            agentSaysUp = false
            reconsider(result: nil, cause: "agent reports \(word)" + (description.map { " (\($0))" } ?? ""))
        default:
            break
        }
    }

    /// The weight the agent asks for, capped as HAProxy caps weights (256).
    private var targetWeight: Int {
        draining ? 0 : min(256, config.options.weight * min(weightPercent, 25_600) / 100)
    }

    private func applyWeight() {
        // A running slowstart ramp picks the new target up at its next step.
        guard ramp == nil else { return }
        pool.setWeight(server, targetWeight)
    }

    // MARK: - the server's place in the rotation

    /// Re-derives whether the server takes traffic, and if that changed tells the
    /// backend and logs it (unless `quiet`).
    private func reconsider(result: CheckResult?, cause: String? = nil, quiet: Bool = false) {
        let up = (healthDisabled || machine.isUp) && (agentDisabled || agentSaysUp) && !maintenance
        guard up != inRotation else { return }
        inRotation = up
        let proxy = pool.name, name = config.name, backup = config.options.backup
        if up, let slowstart = config.options.slowstart, slowstart.milliseconds > 0 {
            // Back from DOWN: the weight climbs from a little to the full value over
            // `slowstart`, so a cold server is not flooded at once.
            startRamp(over: .milliseconds(Int64(slowstart.milliseconds)))
        } else if !up {
            ramp?.cancel()
            ramp = nil
        }
        let counts = pool.setOperational(server, up: up)
        if !up && config.options.onMarkedDown == "shutdown-sessions" {
            pool.shutdownSessions([server])
        }
        if up && !backup && config.options.onMarkedUp == "shutdown-backup-sessions" {
            pool.shutdownSessions(pool.serverConfigs.indices.filter { pool.serverConfigs[$0].options.backup })
        }
        guard !quiet else { return }
        // With `option log-health-checks` the check's own line already told why.
        let result = pool.logHealthChecks ? nil : result
        if up {
            event(5, HealthTransitionMessage.up(proxy: proxy, server: name, backup: backup, result: result, cause: cause.map { $0 == Self.fromCLI ? $0 : "reason: \($0)" }, counts: counts))
        } else if maintenance && cause == "maintenance" {
            event(1, "Server \(proxy)/\(name) is going DOWN for maintenance. \(counts.activeUsable) active and \(counts.backupUsable) backup servers left. \(counts.sessionsOnServer) sessions active, 0 requeued, 0 remaining in queue.")
        } else {
            event(1, HealthTransitionMessage.down(proxy: proxy, server: name, backup: backup, result: result, cause: cause.map { $0 == Self.fromCLI ? $0 : "reason: \($0)" }, counts: counts))
        }
        if !up && counts.activeUsable == 0 && counts.backupUsable == 0 {
            log(.alert, HealthTransitionMessage.noServerAvailable(kind: pool.kindLabel, proxy: proxy))
            // The syslog line has no quotes around the name, as HAProxy's.
            pool.eventLog?.log(level: 0, Array("\(pool.kindLabel) \(proxy) has no server available!".utf8))
        }
    }

    /// How HAProxy's log lines name a change the runtime API made.
    static let fromCLI = "changed from CLI"

    /// The runtime API's orders, on this loop (see `CheckOrder`).
    private func obey(_ order: CheckOrder) {
        switch order {
        case .health(let enabled):
            guard plan != nil, healthDisabled == enabled else { return }
            healthDisabled = !enabled
            pool.updateHealthRecord(server) { $0.checksDisabled = !enabled }
            if enabled { scheduleCheck(in: timing.fastinter) } else { task?.cancel(); task = nil }
            reconsider(result: nil)
        case .agent(let enabled):
            guard let agent, agentDisabled == enabled else { return }
            agentDisabled = !enabled
            pool.updateHealthRecord(server) { $0.agentDisabled = !enabled }
            agentTask?.cancel()
            agentTask = enabled ? loop.assumeIsolated().scheduleTask(in: min(agent.inter, timing.fastinter)) { self.runAgent() } : nil
            reconsider(result: nil)
        case .forceHealth(let health):
            _ = health == .down ? machine.markDown() : machine.markUp()
            pool.updateHealthRecord(server) { $0.health = self.machine.health }
            let wasStopping = pool.status(server).stopping
            if wasStopping != (health == .stopping) {
                let counts = pool.setStopping(server, health == .stopping)
                if health == .stopping && inRotation {
                    event(5, HealthTransitionMessage.stopping(proxy: pool.name, server: config.name, backup: config.options.backup,
                                                                    cause: Self.fromCLI, counts: counts))
                }
            }
            reconsider(result: nil, cause: Self.fromCLI)
        case .forceAgent(let up):
            agentSaysUp = up
            reconsider(result: nil, cause: Self.fromCLI)
        }
    }

    /// A state change: on stderr as a warning, and to the backend's log targets at
    /// HAProxy's level (1 alert for DOWN, 5 notice for UP and admin changes).
    private func event(_ level: Int, _ message: String) {
        log(.warning, message)
        pool.eventLog?.log(level: level, Array(message.utf8))
    }

    private func startRamp(over duration: TimeAmount) {
        ramp?.cancel()
        let began = loop.now
        let step = TimeAmount.nanoseconds(max(100_000_000, duration.nanoseconds / 20))
        func apply() {
            let elapsed = loop.now - began
            let full = elapsed >= duration
            let target = targetWeight
            let current = full || target == 0 ? target : max(1, Int(Int64(target) * elapsed.nanoseconds / max(1, duration.nanoseconds)))
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
