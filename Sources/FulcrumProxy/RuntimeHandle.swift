import NIOConcurrencyHelpers

/// The running proxy as the runtime API reaches it for what only the proxy can do
/// (its listeners): set once the proxy exists, which is after the API is made.
/// Held weakly, so the API does not keep a stopped proxy alive.
final class RuntimeHandle: Sendable {
    private struct Weak: Sendable {
        weak var runtime: ProxyRuntime?
    }
    private let box = NIOLockedValueBox(Weak())

    func set(_ runtime: ProxyRuntime) { box.withLockedValue { $0.runtime = runtime } }
    var runtime: ProxyRuntime? { box.withLockedValue { $0.runtime } }
}
