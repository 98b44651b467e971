/// Writes words back as a configuration line that tokenizes to the same words.
public enum ConfigWriter {
    public static func line(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    public static func quote(_ word: String) -> String {
        if word.isEmpty { return "''" }
        let special: Set<Character> = [" ", "\t", "#", "\\", "'", "\"", "$"]
        let needsQuoting = word.contains { special.contains($0) || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }
        if !needsQuoting { return word }
        if !word.contains("'") && !word.contains(where: { $0.asciiValue.map { $0 < 0x20 } == true }) {
            return "'" + word + "'"
        }
        var out = "\""
        for scalar in word.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "$": out += "\\$"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
