/// One entry of the flag table: `--help` is printed from the same table the parser uses.
struct CommandLineFlag: Sendable {
    enum Arity { case none, one, many }
    let names: [String]
    let arity: Arity
    let placeholder: String
    let help: String
    let apply: @Sendable (inout CommandLineOptions, [String]) throws(CommandLineError) -> Void
}

struct CommandLineError: Error, Sendable {
    var message: String
}
