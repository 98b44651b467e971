import FulcrumCore
import NIOCore

/// A proxy's statistics page (`stats enable`, `stats uri` ...): requests whose path
/// begins with the URI get the HTML report, or CSV (`;csv`) or JSON (`;json`), after the
/// `stats http-request` rules and `stats auth` credentials allow them. With `stats
/// admin`, the page carries a form per backend whose POST changes servers' states
/// through the runtime API's own commands, then redirects back with the outcome
/// (`;st=DONE`...), as HAProxy does.
final class StatsPage: Sendable {
    let uri: [UInt8]
    let uriText: String
    let realm: String
    /// `stats auth` pairs, "user:password".
    let credentials: Set<String>
    let refresh: Int?
    let admin: ACLCondition?
    let access: [(action: StatsPageConfig.AccessRule.Action, condition: ACLCondition?)]
    let hideVersion: Bool
    let showLegends: Bool
    let node: String?
    let description: String?
    /// The proxies listed (all when empty).
    let scope: Set<String>
    let services: LocalServices

    init(_ config: StatsPageConfig, proxy: ProxyConfig, rules: ProxyRuleSet, description globalDescription: String?, services: LocalServices) {
        uriText = config.effectiveURI
        uri = Array(uriText.utf8)
        realm = config.realm ?? "HAProxy Statistics"
        credentials = Set(config.auth)
        refresh = config.refresh.map { max(1, Int($0.milliseconds / 1000)) }
        admin = rules.statsAdmin
        access = rules.statsAccess
        hideVersion = config.hideVersion
        showLegends = config.showLegends
        node = config.showNode.map { $0.isEmpty ? ProxyRuntime.hostname() : $0 }
        description = config.description.map { $0.isEmpty ? (globalDescription ?? "") : $0 }
        scope = Set(config.scope.map { $0 == "." ? proxy.name : $0 })
        self.services = services
    }

    /// Whether a request target is for the page.
    func matches(_ target: [UInt8]) -> Bool { target.starts(with: uri) }

    struct Answer {
        let status: Int
        let head: [UInt8]
        let body: [UInt8]
    }

    func answer(_ s: SampleContext, _ log: RequestLogContext, errorPages: HTTPErrorPages, loop: EventLoop) -> Answer {
        let target = s.request?.currentTarget ?? []
        let options = String(decoding: target.dropFirst(uri.count), as: UTF8.self)
        let method = String(decoding: s.methodBytes ?? [], as: UTF8.self)
        // `stats http-request` rules first; `stats auth` is checked after them, as
        // HAProxy adds it as a last rule: an `allow` that matched skips it.
        var mustAuthenticate: String? = nil
        var allowed = false
        for rule in access where rule.condition?.holds(s) ?? true {
            switch rule.action {
            case .allow: allowed = true
            case .deny:
                let page = errorPages.pageParts(403, for: s, log)
                return Answer(status: 403, head: page.head, body: page.body)
            case .auth(let ruleRealm): mustAuthenticate = ruleRealm ?? realm
            }
            break
        }
        if !allowed && (mustAuthenticate != nil || !credentials.isEmpty) {
            let given = SampleFetch.basicCredentials(s).map { "\($0.user):\($0.password)" }
            if mustAuthenticate != nil || !credentials.contains(given ?? "\u{0}") {
                if given.map(credentials.contains) != true {
                    let page = errorPages.pageParts(401, for: s, log)
                    let head = page.head.dropLast(2) + Array("www-authenticate: Basic realm=\"\(mustAuthenticate ?? realm)\"\r\n\r\n".utf8)
                    return Answer(status: 401, head: Array(head), body: page.body)
                }
            }
        }
        guard let (stats, api) = services.current else {
            let page = errorPages.pageParts(503, for: s, log)
            return Answer(status: 503, head: page.head, body: page.body)
        }
        let isAdmin = admin?.holds(s) ?? false
        if method == "POST" {
            guard isAdmin else { return redirect("DENY") }
            return redirect(apply(form: s.requestBody ?? [], stats: stats, api: api, loop: loop))
        }
        var snapshot = stats.snapshot()
        if !scope.isEmpty { snapshot.rows.removeAll { !scope.contains($0.proxy) } }
        let words = Set(options.split(separator: ";").map(String.init))
        if words.contains("up") { snapshot.rows.removeAll { $0.kind == .server && !$0.text("status").hasPrefix("UP") && $0.text("status") != "no check" } }
        if words.contains("no-maint") { snapshot.rows.removeAll { $0.kind == .server && $0.text("status") == "MAINT" } }
        if words.contains("csv") {
            return text(snapshot.csv(), type: "text/plain")
        }
        if words.contains("json") {
            return text(snapshot.json(), type: "application/json")
        }
        let outcome = words.first { $0.hasPrefix("st=") }.map { String($0.dropFirst(3)) }
        let html = StatsPageHTML(page: self, stats: stats, snapshot: snapshot, admin: isAdmin, options: words, outcome: outcome).render()
        var headers: [(String, [UInt8])] = [("cache-control", Array("no-cache".utf8)), ("content-type", Array("text/html".utf8))]
        if let refresh, !words.contains("norefresh") { headers.append(("refresh", Array(String(refresh).utf8))) }
        let body = Array(html.utf8)
        return Answer(status: 200, head: HTTPRuleRunner.head(200, "OK", headers, body.count), body: body)
    }

    func text(_ body: String, type: String) -> Answer {
        let bytes = Array(body.utf8)
        return Answer(status: 200, head: HTTPRuleRunner.head(200, "OK", [("cache-control", Array("no-cache".utf8)), ("content-type", Array(type.utf8))], bytes.count),
                      body: bytes)
    }

    /// After a POST: back to the page, which shows the outcome.
    func redirect(_ outcome: String) -> Answer {
        let location = Array("\(uriText);st=\(outcome)".utf8)
        return Answer(status: 303, head: HTTPRuleRunner.head(303, "See Other", [("cache-control", Array("no-cache".utf8)), ("location", location)], 0), body: [])
    }

    /// The admin form's actions, as runtime API commands on each ticked server.
    static let actions: [String: @Sendable (String, String) -> [String]] = [
        "ready": { b, s in ["set", "server", "\(b)/\(s)", "state", "ready"] },
        "drain": { b, s in ["set", "server", "\(b)/\(s)", "state", "drain"] },
        "maint": { b, s in ["set", "server", "\(b)/\(s)", "state", "maint"] },
        "dhlth": { b, s in ["disable", "health", "\(b)/\(s)"] },
        "ehlth": { b, s in ["enable", "health", "\(b)/\(s)"] },
        "hrunn": { b, s in ["set", "server", "\(b)/\(s)", "health", "up"] },
        "hnolb": { b, s in ["set", "server", "\(b)/\(s)", "health", "stopping"] },
        "hdown": { b, s in ["set", "server", "\(b)/\(s)", "health", "down"] },
        "dagent": { b, s in ["disable", "agent", "\(b)/\(s)"] },
        "eagent": { b, s in ["enable", "agent", "\(b)/\(s)"] },
        "arunn": { b, s in ["set", "server", "\(b)/\(s)", "agent", "up"] },
        "adown": { b, s in ["set", "server", "\(b)/\(s)", "agent", "down"] },
        "shutdown": { b, s in ["shutdown", "sessions", "server", "\(b)/\(s)"] },
    ]

    /// The labels of the admin form's choices, in its order.
    static let actionLabels: [(String, String)] = [
        ("ready", "Set state to READY"), ("drain", "Set state to DRAIN"), ("maint", "Set state to MAINT"),
        ("dhlth", "Health: disable checks"), ("ehlth", "Health: enable checks"), ("hrunn", "Health: force UP"),
        ("hnolb", "Health: force NOLB"), ("hdown", "Health: force DOWN"), ("dagent", "Agent: disable checks"),
        ("eagent", "Agent: enable checks"), ("arunn", "Agent: force UP"), ("adown", "Agent: force DOWN"),
        ("shutdown", "Kill Sessions"),
    ]

    /// `b=#<iid>&s=<server>&...&action=<name>`: DONE when every server changed, PART
    /// when some did, NONE when none was ticked, ERRP for a bad proxy or action.
    func apply(form: [UInt8], stats: StatsRegistry, api: RuntimeAPI, loop: EventLoop) -> String {
        var backend: String?, action: String?, servers: [String] = []
        for pair in form.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let key = String(decoding: parts[0], as: UTF8.self)
            let value = String(decoding: SampleConverter.urlDecode(Array(parts[1]), inForm: true) ?? [], as: UTF8.self)
            switch key {
            case "b": backend = value
            case "s": servers.append(value)
            case "action": action = value
            default: continue
            }
        }
        guard let proxyText = backend, let actionName = action, let command = Self.actions[actionName] else { return "ERRP" }
        let proxy: StatsRegistry.Proxy?
        if proxyText.hasPrefix("#"), let id = Int(proxyText.dropFirst()) {
            proxy = stats.proxies.first { $0.id == id }
        } else {
            proxy = stats.proxy(named: proxyText)
        }
        guard let proxy, proxy.backend != nil, scope.isEmpty || scope.contains(proxy.name) else { return "ERRP" }
        guard !servers.isEmpty else { return "NONE" }
        var done = 0
        for server in servers {
            switch api.run(command(proxy.name, server), level: .admin, on: loop) {
            case .text(let answer): if answer.isEmpty { done += 1 }
            // Handed to the server's checker, which applies it on its own loop.
            case .later: done += 1
            case .quit: break
            }
        }
        return done == servers.count ? "DONE" : done == 0 ? "ERRP" : "PART"
    }
}
