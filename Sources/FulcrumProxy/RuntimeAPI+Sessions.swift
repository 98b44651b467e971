#if canImport(Glibc)
import Glibc
#endif
import FulcrumCore
import NIOCore

/// Connections, captured errors and the environment from the runtime API: `show sess`,
/// `shutdown session`, `show errors`, `show env`, answered in HAProxy 2.6's words.
extension RuntimeAPI {
    static let sessionCommands: [Command] = [
        Command(words: ["show", "sess"], arguments: "[<id>]", level: .operator, help: "list the client connections open now, or one of them",
                answer: { api, args, loop in
            guard let word = args.first, word != "all" else {
                return .later(api.sessions.lines(on: loop).map { $0.map { $0.1 + "\n" }.joined() })
            }
            guard let id = Self.sessionID(word) else { return .text("Session not found.\n") }
            return .later(api.sessions.lines(only: id, on: loop).map { lines in
                lines.isEmpty ? "Session not found.\n" : lines.map { $0.1 + "\n" }.joined()
            })
        }),
        Command(words: ["shutdown", "session"], arguments: "<id>", level: .admin, help: "close a client connection", answer: { api, args, loop in
            guard let id = args.first.flatMap(Self.sessionID) else { return .text("Session pointer expected (use 'show sess').\n") }
            return .later(api.sessions.shutdown(id, on: loop).map { found in found ? "" : "No such session (use 'show sess').\n" })
        }),
        Command(words: ["show", "errors"], arguments: "[<iid>|<proxy>] [request|response]", level: .operator,
                help: "show the last invalid request of each frontend", run: { api, args in api.showErrors(args) }),
        Command(words: ["show", "env"], arguments: "[<name>]", level: .operator, help: "show the process's environment variables", run: { _, args in
            let variables = Self.environment()
            guard let name = args.first else { return variables.map { "\($0.0)=\($0.1)\n" }.joined() }
            guard let value = variables.first(where: { $0.0 == name })?.1 else { return "Variable not found\n" }
            return "\(name)=\(value)\n"
        }),
    ]

    /// `0x1f` as `show sess` prints it (a bare number is taken as hexadecimal too).
    static func sessionID(_ word: String) -> Int? {
        let digits = word.hasPrefix("0x") || word.hasPrefix("0X") ? word.dropFirst(2) : Substring(word)
        return Int(digits, radix: 16).flatMap { $0 > 0 ? $0 : nil }
    }

    static func environment() -> [(String, String)] {
        var out: [(String, String)] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                out.append((String(text[..<equals]), String(text[text.index(after: equals)...])))
            }
            cursor += 1
        }
        return out
    }

    /// `show errors [<iid>|<proxy>] [request|response]`: for each frontend that refused
    /// a request as malformed, the last one, as HAProxy lays it out (Fulcrum keeps no
    /// invalid responses, so `response` lists none).
    func showErrors(_ args: [String]) -> String {
        var words = args
        var wantRequests = true
        if let last = words.last, last == "request" || last == "response" {
            wantRequests = last == "request"
            words.removeLast()
        }
        var selected = stats.proxies
        if let filter = words.first, filter != "-1" {
            if let id = Int(filter) {
                selected = selected.filter { $0.id == id }
            } else {
                guard let proxy = stats.proxy(named: filter) else { return "No such proxy.\n" }
                selected = [proxy]
            }
        }
        let (seconds, milliseconds) = WallClock.now()
        var out = "Total events captured on [\(Self.date(seconds, milliseconds))] : \(ErrorCapture.events.load(ordering: .relaxed))\n"
        guard wantRequests else { return out }
        for proxy in selected {
            guard let frontend = proxy.frontend, let event = frontend.counters.errorCapture.last else { continue }
            var source = "unix"
            if let address = event.source, let ip = address.ipAddress, let port = address.port { source = "\(ip):\(port)" }
            out += " \n[\(Self.date(event.seconds, event.milliseconds))] frontend \(proxy.name) (#\(proxy.id)): invalid request\n"
                + "  backend <NONE> (#-1), server <NONE> (#-1), event #\(event.event), src \(source)\n"
                + "  buffer starts at 0 (including 0 out), \(max(0, event.bufferSize - event.bytes.count)) free,\n"
                + "  len \(event.bytes.count), wraps at \(event.bufferSize), error at position \(event.position)\n"
                + "  \n" + Self.dump(event.bytes)
        }
        return out
    }

    static func date(_ seconds: Int, _ milliseconds: Int) -> String {
        var bytes: [UInt8] = []
        LogFormatRenderer.date(seconds, milliseconds, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The captured bytes as HAProxy prints them: one input line per output line, each
    /// after its offset; `\t \n \r \e \\` as two characters, other unprintable bytes as
    /// `\xNN`; a line that would pass 79 columns goes on on the next one, whose offset
    /// is followed by `+`.
    static func dump(_ bytes: [UInt8]) -> String {
        var out = ""
        var position = 0
        var lineStart = 0
        while position < bytes.count {
            let offset = String(position)
            var line = "  " + String(repeating: "0", count: max(0, 5 - offset.count)) + offset + (position == lineStart ? " " : "+") + " "
            while position < bytes.count {
                let byte = bytes[position]
                let text: String
                switch byte {
                case UInt8(ascii: "\t"): text = "\\t"
                case UInt8(ascii: "\n"): text = "\\n"
                case UInt8(ascii: "\r"): text = "\\r"
                case 27: text = "\\e"
                case UInt8(ascii: "\\"): text = "\\\\"
                case 0x20..<0x7f: text = String(UnicodeScalar(byte))
                default: text = "\\x" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xf, radix: 16, uppercase: true)
                }
                guard line.count + text.count <= 79 else { break }
                line += text
                position += 1
                if byte == UInt8(ascii: "\n") {
                    lineStart = position
                    break
                }
            }
            out += line + "\n"
        }
        return out
    }
}
