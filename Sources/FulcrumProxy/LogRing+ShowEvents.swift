/// The runtime API's `show events [<ring>] [-w] [-n]`, in HAProxy 2.6's words: without
/// a name, the list of event sinks; with one, the ring's events, one per line.
extension LogRing {
    static func showEvents(_ args: [String]) -> String {
        guard let name = args.first else {
            var out = "Supported events sinks are listed below. Add -w(wait), -n(new). Any key to stop\n"
            func row(_ name: String, _ rest: String) {
                out += "    " + name + String(repeating: " ", count: max(0, 10 - name.count)) + " : " + rest + "\n"
            }
            // HAProxy's own two file descriptor sinks (its words for stderr included).
            row("stdout", "type=fd, 0 dropped, standard output (fd#1)")
            row("stderr", "type=fd, 0 dropped, standard output (fd#2)")
            for ring in all {
                row(ring.config.name, "type=buffer, \(ring.dropped.load(ordering: .relaxed)) dropped, \(ring.description)")
            }
            return out
        }
        var onlyNew = false
        for option in args.dropFirst() {
            switch option {
            case "-n": onlyNew = true
            // Waiting for new events needs a streaming reply: the events so far are shown.
            case "-w": break
            default: return "unknown option\n"
            }
        }
        if name == "stdout" || name == "stderr" { return "" }
        guard let ring = named(name) else { return "No such event sink\n" }
        guard !onlyNew else { return "" }
        var out: [UInt8] = []
        for event in ring.events().events {
            out += event
            out.append(UInt8(ascii: "\n"))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
