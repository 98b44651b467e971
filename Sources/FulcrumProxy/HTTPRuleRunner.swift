import FulcrumCore
import FulcrumHTTP1

/// Carries out header rules on a head being edited, in configuration order.
enum HTTPRuleRunner {
    static func run(_ rules: [CompiledHTTPRule], on editor: inout HTTPHeadEditor, _ log: RequestLogContext) {
        for compiled in rules {
            switch compiled.rule {
            case .addHeader(let name, let value):
                editor.add(name, LogFormatRenderer.render(value, log))
            case .setHeader(let name, let value):
                editor.set(name, LogFormatRenderer.render(value, log))
            case .deleteHeader(let name):
                editor.delete(name)
            case .replaceHeader(let name, _, let replacement):
                guard let regex = compiled.regex else { continue }
                let rendered = LogFormatRenderer.render(replacement, log)
                editor.replaceValues(of: name) { value in
                    let text = String(decoding: value, as: UTF8.self)
                    guard let match = try? regex.firstMatch(in: text) else { return nil }
                    return expand(rendered, match)
                }
            case .setPath(let value):
                editor.setPath(LogFormatRenderer.render(value, log))
            case .setURI(let value):
                editor.setTarget(LogFormatRenderer.render(value, log))
            }
        }
    }

    /// `\0`...`\9` in a replacement stand for the match's groups.
    static func expand(_ replacement: [UInt8], _ match: Regex<AnyRegexOutput>.Match) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < replacement.count {
            let b = replacement[i]
            if b == UInt8(ascii: "\\"), i + 1 < replacement.count, replacement[i + 1] >= UInt8(ascii: "0"), replacement[i + 1] <= UInt8(ascii: "9") {
                let group = Int(replacement[i + 1] - UInt8(ascii: "0"))
                if group < match.output.count, let sub = match.output[group].substring {
                    out += Array(sub.utf8)
                }
                i += 2
            } else {
                out.append(b)
                i += 1
            }
        }
        return out
    }
}
