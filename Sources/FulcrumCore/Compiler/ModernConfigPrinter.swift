import HAProxyConfig

/// Prints the configuration files back with every legacy line replaced by its modern
/// equivalent; everything else (comments, layout, conditional blocks) is kept as written.
public enum ModernConfigPrinter {
    public static func print(_ document: ConfigDocument, rewrites: [SourceLocation: [[String]]]) -> String {
        var out = ""
        let multiple = document.files.count > 1
        for file in document.files {
            if multiple { out += "# ---- \(file) ----\n" }
            let lines = document.sourceText[file] ?? []
            for (index, raw) in lines.enumerated() {
                let location = SourceLocation(file: file, line: index + 1)
                guard let modern = rewrites[location] else {
                    out += raw + "\n"
                    continue
                }
                let indent = String(raw.prefix { $0 == " " || $0 == "\t" })
                let original = raw.drop { $0 == " " || $0 == "\t" }
                out += indent + "# legacy: " + original + "\n"
                for words in modern {
                    out += indent + ConfigWriter.line(words) + "\n"
                }
            }
        }
        return out
    }
}
