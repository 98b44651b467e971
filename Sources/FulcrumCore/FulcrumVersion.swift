import HAProxyConfig

/// Version facts shown by `-v`/`-vv` and used by `.if version_atleast(...)` / `feature(...)`.
public enum FulcrumVersion {
    public static let version = "0.1.0"
    /// The HAProxy configuration language level Fulcrum implements: conditions that test
    /// the HAProxy version compare against this.
    public static let haproxyCompatibility = "2.6.12"
    /// Features as `haproxy -vv` lists them; only what Fulcrum really has is marked `+`.
    public static let features: [(String, Bool)] = [
        ("EPOLL", true), ("THREAD", true), ("GETADDRINFO", true), ("REGEX", true),
        ("OPENSSL", false), ("LUA", false), ("ZLIB", false), ("PROMEX", false), ("QUIC", false), ("PCRE", false),
    ]

    public static var enabledFeatures: Set<String> { Set(features.filter(\.1).map(\.0)) }

    public static var featureLine: String {
        features.map { ($0.1 ? "+" : "-") + $0.0 }.joined(separator: " ")
    }

    public static func conditionContext(environment: @escaping @Sendable (String) -> String?) -> ConditionContext {
        ConditionContext(environment: environment, features: enabledFeatures, version: haproxyCompatibility)
    }
}
