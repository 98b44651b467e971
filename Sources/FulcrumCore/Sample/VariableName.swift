/// A variable's full name, `scope.name`, as `var()`, `set-var()` and `unset-var()` take it.
enum VariableName {
    static let scopes: Set<String> = ["proc", "sess", "txn", "req", "res", "check"]

    static func parse(_ text: String) throws(ConfigError) -> String {
        guard let dot = text.firstIndex(of: "."), scopes.contains(String(text[..<dot])), text.index(after: dot) < text.endIndex else {
            throw ConfigError("invalid variable name '\(text)'.", hint: "a variable is named SCOPE.NAME with SCOPE one of proc, sess, txn, req, res")
        }
        return text
    }
}
