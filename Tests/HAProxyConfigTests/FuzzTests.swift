import Testing
@testable import HAProxyConfig

/// Malformed input must produce diagnostics, never a trap or a hang: random bytes and
/// randomly mutated copies of a real configuration go through the reader.
@Suite struct FuzzTests {
    static let seedConfig = """
    global
        log 127.0.0.1 local0 debug
        stats socket /run/haproxy/haproxy.sock mode 0660 level admin
    .if defined(HOME) && (feature(THREAD) || version_atleast(2.4))
        nbthread 2
    .endif
    defaults
        mode http
        log-format "%ci:%cp [%t] %ft %b/%s %{+Q}r"
        timeout connect 5s
    frontend fe
        bind "${ADDR-127.0.0.1}:8080" name x
        reqadd X-Forwarded-Proto:\\ http
        http-request set-header X-A '%[src]' if { path_beg /a }
        default_backend be
    backend be
        server s1 127.0.0.1:80 check inter 5s
    """

    /// A small deterministic generator, so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    func readAll(_ bytes: [UInt8]) -> ConfigReader {
        var reader = ConfigReader(context: ConditionContext(environment: { $0 == "HOME" ? "/root" : nil }, features: ["THREAD"], version: "2.6"))
        reader.read(file: "fuzz.cfg", contents: bytes)
        return reader
    }

    @Test func randomBytes() {
        var rng = SplitMix(state: 1)
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<400, using: &rng)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let reader = readAll(bytes)
            for d in reader.diagnostics.items { #expect(d.location != nil || d.severity != .alert || d.message.contains("Could not")) }
        }
    }

    @Test func mutatedRealConfiguration() {
        var rng = SplitMix(state: 2)
        let original = Array(Self.seedConfig.utf8)
        let interesting: [UInt8] = Array("\"'\\#$.{}()[]*:-\n\t \r\0x".utf8)
        var withAlerts = 0
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let at = Int.random(in: 0..<max(1, bytes.count), using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where !bytes.isEmpty: bytes.remove(at: at)
                case 1: bytes.insert(interesting.randomElement(using: &rng)!, at: min(at, bytes.count))
                case 2 where !bytes.isEmpty: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                default:
                    let from = Int.random(in: 0..<bytes.count, using: &rng)
                    let chunk = bytes[from..<min(bytes.count, from + 20)]
                    bytes.insert(contentsOf: chunk, at: min(at, bytes.count))
                }
            }
            let reader = readAll(bytes)
            if reader.diagnostics.hasAlerts { withAlerts += 1 }
            for alert in reader.diagnostics.alerts { #expect(alert.location != nil) }
        }
        #expect(withAlerts > 100, "mutations should break the configuration often")
    }
}
