import FulcrumCore

/// The HTML of the statistics page: a summary of the process, then one table per
/// proxy (its FRONTEND row, its servers, its BACKEND row) with the columns HAProxy's
/// page has, each server row coloured by its state. With admin rights each backend's
/// table is a form: tick servers, pick an action, apply.
struct StatsPageHTML {
    let page: StatsPage
    let stats: StatsRegistry
    let snapshot: StatsSnapshot
    let admin: Bool
    let options: Set<String>
    let outcome: String?

    /// The state classes and their colours (also the legend's).
    static let states: [(css: String, color: String, legend: String)] = [
        ("up", "#c0ffc0", "active UP"), ("going-down", "#ffd020", "active UP, going down"),
        ("going-up", "#ffa0a0", "active DOWN, going up"), ("down", "#ff9090", "active or backup DOWN"),
        ("nocheck", "#e0e0e0", "not checked"), ("drain", "#b0d0ff", "active or backup DRAIN"),
        ("maint", "#c07820", "active or backup in MAINT"), ("backup-up", "#b0e0ff", "backup UP"),
    ]

    func render() -> String {
        var out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Statistics Report for Fulcrum</title>\n"
        out += "<style>\n"
        out += "body{font-family:arial,helvetica,sans-serif;font-size:12px;background:#fff;color:#000}\n"
        out += "table.px{border-collapse:collapse;margin-bottom:1em}\n"
        out += "table.px th,table.px td{border:1px solid #999;padding:1px 4px;font-size:11px;text-align:right;white-space:nowrap}\n"
        out += "table.px th.pxname{background:#5070c0;color:#fff;text-align:left;font-size:13px}\n"
        out += "table.px tr.head th{background:#b0b0c8}\n"
        out += "table.px td.name{text-align:left}\n"
        out += "tr.frontend td,tr.backend td{background:#e8e8f0;font-weight:bold}\n"
        for s in Self.states { out += "tr.\(s.css) td{background:\(s.color)}\n" }
        out += ".outcome{padding:4px;margin:4px 0;border:1px solid #888;background:#ffffc0}\n"
        out += "</style></head><body>\n"
        out += "<h1>Fulcrum" + (page.hideVersion ? "" : " version \(Self.escape(FulcrumVersion.version))") + "</h1>\n"
        out += "<h2>Statistics Report for pid \(ProxyRuntime.processID)" + (page.node.map { " on \(Self.escape($0))" } ?? "") + "</h2>\n"
        if let description = page.description, !description.isEmpty { out += "<p class=\"desc\">\(Self.escape(description))</p>\n" }
        if let outcome { out += "<div class=\"outcome\" id=\"outcome\">\(Self.escape(Self.outcomeText(outcome)))</div>\n" }
        out += summary()
        if page.showLegends { out += legend() }
        var proxies: [(Int, String)] = []
        for row in snapshot.rows where !proxies.contains(where: { $0.0 == row.proxyID }) { proxies.append((row.proxyID, row.proxy)) }
        for (id, name) in proxies {
            out += table(id: id, name: name, rows: snapshot.rows.filter { $0.proxyID == id })
        }
        out += "</body></html>\n"
        return out
    }


    func summary() -> String {
        let info = Dictionary(stats.info().map { ($0.field.name, $0.value.csv) }, uniquingKeysWith: { a, _ in a })
        let base = page.uriText
        var out = "<table class=\"summary\"><tr><td>\n<p><b>General process information</b></p><ul>\n"
        out += "<li>pid = \(info["Pid"] ?? "") (process #1, nbproc = 1, nbthread = \(info["Nbthread"] ?? ""))</li>\n"
        out += "<li>uptime = \(info["Uptime"] ?? "")</li>\n"
        out += "<li>system limits: ulimit-n = \(info["Ulimit-n"] ?? ""); maxconn = \(info["Maxconn"] ?? "")</li>\n"
        out += "<li>current conns = \(info["CurrConns"] ?? ""); cumulated requests = \(info["CumReq"] ?? "")</li>\n"
        out += "</ul></td><td>\n<p><b>Display option:</b></p><ul>\n"
        let up = options.contains("up")
        out += "<li><a href=\"\(Self.escape(base + (up ? "" : ";up")))\">\(up ? "Show all servers" : "Hide 'DOWN' servers")</a></li>\n"
        if page.refresh != nil {
            let off = options.contains("norefresh")
            out += "<li><a href=\"\(Self.escape(base + (off ? "" : ";norefresh")))\">\(off ? "Enable refresh" : "Disable refresh")</a></li>\n"
        }
        out += "<li><a href=\"\(Self.escape(base))\">Refresh now</a></li>\n"
        out += "<li><a href=\"\(Self.escape(base + ";csv"))\">CSV export</a></li>\n"
        out += "<li><a href=\"\(Self.escape(base + ";json"))\">JSON export</a></li>\n"
        out += "</ul></td></tr></table>\n"
        return out
    }

    func legend() -> String {
        var out = "<table class=\"legend\"><tr>"
        for s in Self.states { out += "<td style=\"background:\(s.color)\">\(Self.escape(s.legend))</td>" }
        return out + "</tr></table>\n"
    }

    static let groups: [(String, [(String, String)])] = [
        ("Queue", [("Cur", "qcur"), ("Max", "qmax"), ("Limit", "qlimit")]),
        ("Session rate", [("Cur", "rate"), ("Max", "rate_max"), ("Limit", "rate_lim")]),
        ("Sessions", [("Cur", "scur"), ("Max", "smax"), ("Limit", "slim"), ("Total", "stot"), ("LbTot", "lbtot"), ("Last", "lastsess")]),
        ("Bytes", [("In", "bin"), ("Out", "bout")]),
        ("Denied", [("Req", "dreq"), ("Resp", "dresp")]),
        ("Errors", [("Req", "ereq"), ("Conn", "econ"), ("Resp", "eresp")]),
        ("Warnings", [("Retr", "wretr"), ("Redis", "wredis")]),
        ("Server", [("Status", "status"), ("LastChk", "check_status"), ("Wght", "weight"), ("Act", "act"), ("Bck", "bck"),
                    ("Chk", "chkfail"), ("Dwn", "chkdown"), ("Dwntme", "downtime"), ("Thrtle", "throttle")]),
    ]

    func table(id: Int, name: String, rows: [StatsSnapshot.Row]) -> String {
        let hasServers = rows.contains { $0.kind == .server || $0.kind == .backend }
        let form = admin && hasServers && rows.contains { $0.kind == .server }
        let columns = Self.groups.reduce(0) { $0 + $1.1.count } + 1 + (form ? 1 : 0)
        var out = ""
        if form { out += "<form method=\"post\" action=\"\(Self.escape(page.uriText))\">\n" }
        out += "<table class=\"px\" id=\"px-\(Self.escape(name))\"><tr><th class=\"pxname\" colspan=\"\(columns)\">"
        out += "<a name=\"\(Self.escape(name))\"></a>\(Self.escape(name))</th></tr>\n"
        out += "<tr class=\"head\">" + (form ? "<th rowspan=\"2\"></th>" : "") + "<th rowspan=\"2\"></th>"
        for (group, fields) in Self.groups { out += "<th colspan=\"\(fields.count)\">\(group)</th>" }
        out += "</tr>\n<tr class=\"head\">"
        for (_, fields) in Self.groups { for (label, _) in fields { out += "<th>\(label)</th>" } }
        out += "</tr>\n"
        for row in rows {
            let css: String
            switch row.kind {
            case .frontend: css = "frontend"
            case .backend: css = "backend"
            default: css = Self.stateClass(row)
            }
            out += "<tr class=\"\(css)\" data-name=\"\(Self.escape(row.server))\">"
            if form {
                out += row.kind == .server ? "<td><input type=\"checkbox\" name=\"s\" value=\"\(Self.escape(row.server))\"></td>" : "<td></td>"
            }
            out += "<td class=\"name\">\(Self.escape(row.server))</td>"
            for (_, fields) in Self.groups {
                for (_, column) in fields {
                    out += "<td class=\"\(column)\">\(Self.escape(cell(row, column)))</td>"
                }
            }
            out += "</tr>\n"
        }
        out += "</table>\n"
        if form {
            out += "Choose the action to perform on the checked servers : <select name=\"action\">"
            out += "<option value=\"\"></option>"
            for (value, label) in StatsPage.actionLabels { out += "<option value=\"\(value)\">\(label)</option>" }
            out += "</select><input type=\"hidden\" name=\"b\" value=\"#\(id)\"> <input type=\"submit\" value=\"Apply\"></form>\n"
        }
        return out
    }

    func cell(_ row: StatsSnapshot.Row, _ column: String) -> String {
        switch column {
        case "status":
            let status = row.text("status")
            if row.kind == .server {
                let change = row.int("lastchg")
                return status + " " + Self.duration(change)
            }
            return status
        case "check_status":
            guard row["check_status"] != nil else { return "" }
            let code = row["check_code"].map { "/\($0.csv)" } ?? ""
            return "\(row.text("check_status"))\(code) in \(row.int("check_duration"))ms"
        case "downtime":
            return row["downtime"].map { Self.duration($0.int ?? 0) } ?? ""
        case "act", "bck":
            guard row.kind == .server else { return row.text(column) }
            return row.int(column) == 1 ? "Y" : "-"
        default:
            return row.text(column)
        }
    }

    /// `1d2h`, `3h4m`, `5m6s` or `7s`, as the page shows ages.
    static func duration(_ seconds: Int) -> String {
        let d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60
        if d > 0 { return "\(d)d\(h)h" }
        if h > 0 { return "\(h)h\(m)m" }
        if m > 0 { return "\(m)m\(s)s" }
        return "\(s)s"
    }

    static func stateClass(_ row: StatsSnapshot.Row) -> String {
        let status = row.text("status")
        if status == "MAINT" { return "maint" }
        if status == "DRAIN" { return "drain" }
        if status == "no check" { return "nocheck" }
        if status.hasPrefix("UP ") { return "going-down" }
        if status.hasPrefix("DOWN ") { return "going-up" }
        if status.hasPrefix("DOWN") { return "down" }
        return row.int("bck") == 1 ? "backup-up" : "up"
    }

    static func outcomeText(_ code: String) -> String {
        switch code {
        case "DONE": return "Action processed successfully."
        case "PART": return "Action partially processed: some servers could not be changed."
        case "NONE": return "Nothing has changed."
        case "ERRP": return "Action not processed: invalid parameters or servers."
        case "DENY": return "Action denied."
        case "EXCD": return "Action not processed: the buffer couldn't store all the data."
        default: return "Unexpected result."
        }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
