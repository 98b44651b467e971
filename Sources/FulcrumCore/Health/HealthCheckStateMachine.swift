/// A server's health as its checks see it: HAProxy's health counter, between 0 and
/// `rise + fall - 1`. The server is UP from `rise` upwards. An UP server that fails a
/// check loses one point while it stays above `rise`, and drops to DOWN (0) below; a
/// passed check puts an UP server back at the top. A DOWN server climbs one point per
/// passed check and is UP again at `rise`. Pure and clock-free: the prober feeds it
/// results and asks it when to check next.
public struct HealthCheckStateMachine: Hashable, Sendable {
    /// `init-state`, as HAProxy 3 names them; HAProxy's (and Fulcrum's) default is
    /// `up`: UP at start, DOWN at the first failed check.
    public enum InitialState: String, Hashable, Sendable, CaseIterable {
        case fullyUp = "fully-up", up, down, fullyDown = "fully-down"
    }

    public enum Transition: Hashable, Sendable { case wentUp, wentDown }

    public let rise: Int
    public let fall: Int
    public private(set) var health: Int
    public private(set) var isUp: Bool

    var top: Int { rise + fall - 1 }

    public init(rise: Int, fall: Int, initial: InitialState = .up) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        let top = self.rise + self.fall - 1
        switch initial {
        case .fullyUp: health = top; isUp = true
        case .up: health = self.rise; isUp = true
        case .down: health = self.rise - 1; isUp = false
        case .fullyDown: health = 0; isUp = false
        }
    }

    public mutating func checkPassed() -> Transition? {
        if isUp {
            health = top
            return nil
        }
        health += 1
        guard health >= rise else { return nil }
        health = top
        isUp = true
        return .wentUp
    }

    public mutating func checkFailed() -> Transition? {
        if health > rise {
            health -= 1
            return nil
        }
        health = 0
        guard isUp else { return nil }
        isUp = false
        return .wentDown
    }

    /// Forces DOWN at once (`on-error mark-down`, an agent's `down`).
    public mutating func markDown() -> Transition? {
        health = 0
        guard isUp else { return nil }
        isUp = false
        return .wentDown
    }

    /// `on-error sudden-death`: one more failed check will take the server DOWN.
    public mutating func suddenDeath() {
        if isUp { health = min(health, rise) }
    }

    /// Forces UP at once (an agent's `up`).
    public mutating func markUp() -> Transition? {
        health = top
        guard !isUp else { return nil }
        isUp = true
        return .wentUp
    }

    /// `2/3 UP` or `1/2 DOWN`, as HAProxy's `option log-health-checks` lines show the
    /// counter: the checks passed towards `rise` while DOWN, the failures left before
    /// `fall` while UP (`DRAIN` for an UP server without weight).
    public func statusText(drained: Bool = false) -> String {
        isUp ? "\(health - rise + 1)/\(fall) \(drained ? "DRAIN" : "UP")" : "\(health)/\(rise) DOWN"
    }

    /// Which interval applies now: `inter` while steady UP, `fastinter` while the
    /// counter is moving between the two states, `downinter` while steady DOWN.
    public enum Pace: Hashable, Sendable { case steadyUp, transitional, steadyDown }

    public var pace: Pace {
        if isUp { return health == top ? .steadyUp : .transitional }
        return health == 0 ? .steadyDown : .transitional
    }
}
