/// The statistics rows at one instant, in HAProxy's order (per proxy, in configuration
/// order: its FRONTEND row, its servers, its BACKEND row), and the three ways the
/// runtime API prints them: CSV, `typed` and `json`. The stats page and the Prometheus
/// exporter read the same rows, so every output agrees.
struct StatsSnapshot: Sendable {
    enum Kind: Int, Sendable {
        case frontend = 0, backend = 1, server = 2, listener = 3

        var letter: String { ["F", "B", "S", "L"][rawValue] }
        var objectType: String { ["Frontend", "Backend", "Server", "Listener"][rawValue] }
        /// The bit of `show stat <iid> <type> <sid>`'s type mask.
        var maskBit: Int { [1, 2, 4, 8][rawValue] }
    }

    enum Value: Sendable, Equatable {
        case int(Int)
        case text(String)

        var csv: String {
            switch self {
            case .int(let n): return String(n)
            case .text(let s): return s
            }
        }

        var int: Int? { if case .int(let n) = self { return n } else { return nil } }
    }

    struct Row: Sendable {
        let kind: Kind
        let proxyID: Int
        let serverID: Int
        let proxy: String
        let server: String
        /// By column index (`StatField.columns`); a missing column prints empty.
        var values: [Int: Value] = [:]

        subscript(_ name: String) -> Value? {
            get { StatField.columnIndex[name].flatMap { values[$0] } }
            set { if let i = StatField.columnIndex[name] { values[i] = newValue } }
        }

        func int(_ name: String) -> Int { self[name]?.int ?? 0 }
        func text(_ name: String) -> String { self[name]?.csv ?? "" }
    }

    var rows: [Row]

    static let csvHeader = "# " + StatField.columns.map(\.name).joined(separator: ",") + ","

    /// `show stat [<iid>|<proxy> <type> <sid>]`: -1 means every proxy or server; the
    /// type mask adds 1 frontends, 2 backends, 4 servers.
    func filtered(proxyID: Int?, proxyName: String?, mask: Int, serverID: Int) -> StatsSnapshot {
        StatsSnapshot(rows: rows.filter { row in
            (proxyID.map { $0 == -1 || $0 == row.proxyID } ?? true)
                && (proxyName.map { $0 == row.proxy } ?? true)
                && (mask & row.kind.maskBit) != 0
                && (serverID == -1 || row.kind != .server || row.serverID == serverID)
        })
    }

    func csv(header: Bool = true) -> String {
        var out = header ? Self.csvHeader + "\n" : ""
        for row in rows {
            for index in StatField.columns.indices {
                if let v = row.values[index] { out += Self.csvEscaped(v.csv) }
                out += ","
            }
            out += "\n"
        }
        return out
    }

    /// A CSV field with a comma or a quote is quoted, as HAProxy does for `check_desc`.
    static func csvEscaped(_ text: String) -> String {
        guard text.contains(",") || text.contains("\"") else { return text }
        return "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// `F.<iid>.<sid>.<pos>.<name>.<process>:<tags>:<type>:<value>`, one field a line,
    /// a blank line after each row; empty fields are left out.
    func typed() -> String {
        var out = ""
        for row in rows {
            for (index, field) in StatField.columns.enumerated() {
                guard let v = row.values[index] else { continue }
                out += "\(row.kind.letter).\(row.proxyID).\(row.serverID).\(index).\(field.name).1:\(field.tags(for: row.kind)):\(field.type):\(v.csv)\n"
            }
            out += "\n"
        }
        return out
    }

    /// A JSON array of rows, each an array of field objects (HAProxy's schema).
    func json() -> String {
        var out = "["
        for (r, row) in rows.enumerated() {
            out += r == 0 ? "[" : ",["
            var first = true
            for (index, field) in StatField.columns.enumerated() {
                guard let v = row.values[index] else { continue }
                if !first { out += "," }
                first = false
                out += "{\"objType\":\"\(row.kind.objectType)\",\"proxyId\":\(row.proxyID),\"id\":\(row.serverID),"
                out += "\"field\":{\"pos\":\(index),\"name\":\"\(field.name)\"},\"processNum\":1,\"tags\":\(StatField.json(field.tags(for: row.kind))),"
                out += "\"value\":{\"type\":\"\(field.type)\",\"value\":\(Self.jsonValue(v))}}"
            }
            out += "]"
        }
        return out + "]\n"
    }

    static func jsonValue(_ v: Value) -> String {
        switch v {
        case .int(let n): return String(n)
        case .text(let s): return jsonString(s)
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
