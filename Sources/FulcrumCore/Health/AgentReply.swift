/// What an `agent-check` agent said, in its one line: words separated by spaces, tabs
/// or commas, in any order. Only what it says changes; the rest stays as it was.
public struct AgentReply: Hashable, Sendable {
    public enum Operational: Hashable, Sendable { case up, down(word: String, description: String?) }
    public enum Administrative: Hashable, Sendable { case ready, drain, maint }

    public var weightPercent: Int?
    public var maxconn: Int?
    public var administrative: Administrative?
    public var operational: Operational?

    public init(weightPercent: Int? = nil, maxconn: Int? = nil, administrative: Administrative? = nil, operational: Operational? = nil) {
        self.weightPercent = weightPercent
        self.maxconn = maxconn
        self.administrative = administrative
        self.operational = operational
    }

    /// The line up to the first CR or LF; a `#` starts the description of a down word.
    public static func parse(_ bytes: [UInt8]) -> AgentReply {
        let end = bytes.firstIndex { $0 == 10 || $0 == 13 } ?? bytes.endIndex
        let line = String(decoding: bytes[..<end], as: UTF8.self)
        var reply = AgentReply()
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })[...]
        while let word = words.popFirst() {
            let lower = word.lowercased()
            if lower.hasSuffix("%"), let n = Int(lower.dropLast()), n >= 0 {
                reply.weightPercent = min(n, 25_600)
            } else if lower.hasPrefix("maxconn:"), let n = Int(lower.dropFirst(8)), n >= 0 {
                reply.maxconn = n
            } else if lower == "ready" {
                reply.administrative = .ready
            } else if lower == "drain" {
                reply.administrative = .drain
            } else if lower == "maint" {
                reply.administrative = .maint
            } else if lower == "up" {
                reply.operational = .up
            } else {
                let parts = lower.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                guard let head = parts.first, ["down", "fail", "stopped"].contains(String(head)) else { continue }
                // The description runs to the end of the line.
                var description: String? = nil
                if let hash = line.firstIndex(of: "#") {
                    description = String(line[line.index(after: hash)...]).trimmingCharacters(in: " \t")
                }
                reply.operational = .down(word: String(head), description: description)
                break
            }
        }
        return reply
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        Substring(self).trimmingCharacters(in: set)
    }
}

/// The agent's side of a check connection: send `agent-send` if any, read one line.
public struct AgentConversation: CheckConversation, Hashable {
    let greeting: [UInt8]

    public init(send: String?) {
        greeting = Array((send ?? "").utf8)
    }

    public mutating func start() -> CheckStep { greeting.isEmpty ? .wait : .send(greeting) }

    public mutating func received(_ bytes: [UInt8]) -> CheckStep {
        guard bytes.contains(where: { $0 == 10 || $0 == 13 }) else { return bytes.count > 1024 ? .finished(Self.result(bytes)) : .wait }
        return .finished(Self.result(bytes))
    }

    public func ended(timedOut: Bool, received: [UInt8]) -> CheckResult {
        received.isEmpty ? CheckResult(timedOut ? .l7timeout : .l7invalidResponse) : Self.result(received)
    }

    static func result(_ bytes: [UInt8]) -> CheckResult {
        let end = bytes.firstIndex { $0 == 10 || $0 == 13 } ?? bytes.endIndex
        return CheckResult(.l7ok, info: String(decoding: bytes[..<end], as: UTF8.self))
    }
}
