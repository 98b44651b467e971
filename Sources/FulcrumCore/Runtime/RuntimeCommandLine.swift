/// A line sent to the stats socket, split as HAProxy splits it: commands separated by
/// `;`, words by spaces or tabs, a backslash escaping the next character (so `\;` and
/// `\ ` are literal).
public enum RuntimeCommandLine {
    public static func split(_ line: String) -> [[String]] {
        var commands: [[String]] = []
        var words: [String] = []
        var word = ""
        var escaped = false
        var inWord = false
        func endWord() {
            if inWord { words.append(word) }
            word = ""
            inWord = false
        }
        for c in line {
            if escaped {
                word.append(c)
                inWord = true
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == " " || c == "\t" {
                endWord()
            } else if c == ";" {
                endWord()
                if !words.isEmpty { commands.append(words) }
                words = []
            } else if c == "\r" || c == "\n" {
                continue
            } else {
                word.append(c)
                inWord = true
            }
        }
        endWord()
        if !words.isEmpty { commands.append(words) }
        return commands
    }

    /// `backend/server` into its two names.
    public static func serverPath(_ word: String) -> (backend: String, server: String)? {
        let parts = word.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
