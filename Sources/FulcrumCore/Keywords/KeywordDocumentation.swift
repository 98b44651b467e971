/// The keyword table of the README, printed from the keyword tables themselves
/// (`fulcrum --list-keywords`), so documentation and parser cannot disagree.
public enum KeywordDocumentation {
    public static func markdown() -> String {
        var out = "## Global section\n\n| keyword | status |\n|---|---|\n"
        for spec in GlobalKeywords.table.specs.sorted(by: { $0.name < $1.name }) {
            out += "| `\(escape(spec.usage))` | \(spec.status.label) |\n"
        }
        for legacy in LegacyKeywords.all where legacy.scope == .global {
            out += "| `\(legacy.name)` | legacy (removed in HAProxy \(legacy.removedIn)) → `\(legacy.modern)` |\n"
        }
        out += "\n## Proxy sections (defaults, frontend, listen, backend)\n\n"
        out += "The `d f l b` column says where a keyword may appear, as in HAProxy's keyword matrix.\n\n"
        out += "| keyword | d f l b | status |\n|---|---|---|\n"
        for spec in ProxyKeywords.table.specs.sorted(by: { $0.name < $1.name }) {
            out += "| `\(escape(spec.usage))` | `\(spec.capabilities.matrix)` | \(spec.status.label) |\n"
        }
        for legacy in LegacyKeywords.all where legacy.scope == .proxy {
            out += "| `\(legacy.name)` | | legacy (removed in HAProxy \(legacy.removedIn)) → `\(escape(legacy.modern))` |\n"
        }
        for (name, modern) in LegacyKeywords.untranslatable.sorted(by: { $0.key < $1.key }) {
            out += "| `\(name)` | | legacy, refused: write `\(escape(modern))` |\n"
        }
        out += "\n## Ring sections\n\n| keyword | status |\n|---|---|\n"
        for spec in RingKeywords.table.specs.sorted(by: { $0.name < $1.name }) {
            out += "| `\(escape(spec.usage))` | \(spec.status.label) |\n"
        }
        out += "\n## Server options (`server` and `default-server`)\n\n"
        out += ServerLineParser.allNames.sorted().map { "`\($0)`" }.joined(separator: ", ") + "\n"
        out += "\n## Bind options\n\n"
        out += BindLineParser.allNames.sorted().map { "`\($0)`" }.joined(separator: ", ") + "\n"
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingPipes()
    }
}

extension String {
    /// Markdown tables use `|` as the cell separator.
    func replacingPipes() -> String {
        var out = ""
        for c in self { out += c == "|" ? "\\|" : String(c) }
        return out
    }
}
