/// How a spliced connection ended, and what it carried.
struct SpliceOutcome: Sendable {
    enum End: Sendable {
        /// Both sides finished sending and every byte was delivered.
        case finished
        case clientTimeout, serverTimeout
        /// A reset or error on that side's socket.
        case clientError, serverError
        /// `shutdown session`, `shutdown sessions server`, or the process stopping.
        case killed
    }

    var end: End
    /// Client to server, the bytes held before the handover included.
    var toServer: Int
    var toClient: Int
}
