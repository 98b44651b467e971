/// keepalived.conf to a checked `KeepalivedConfiguration`. Every keyword comes from a
/// table; what keepalived has and `fulcrum-vrrp` does not run is refused by name.
public enum KeepalivedConfigParser {
    public static func load(path: String, configID: String? = nil, fileSystem: ConfigFileSystem = .live) -> (KeepalivedConfiguration, [KeepalivedDiagnostic]) {
        var reader = ConfigReader(fileSystem: fileSystem, configID: configID)
        let statements = reader.read(path: path)
        var (config, diags) = build(statements)
        config.files = reader.files
        return (config, reader.diagnostics + diags)
    }

    public static func parse(text: String, file: String = "keepalived.conf", configID: String? = nil, fileSystem: ConfigFileSystem = .live) -> (KeepalivedConfiguration, [KeepalivedDiagnostic]) {
        var reader = ConfigReader(fileSystem: fileSystem, configID: configID)
        let statements = reader.read(text: text, file: file)
        var (config, diags) = build(statements)
        config.files = reader.files
        return (config, reader.diagnostics + diags)
    }

    static let lvsReason = "fulcrum-vrrp replaces keepalived's VRRP part only; balance with fulcrum instead of LVS"

    static func build(_ statements: [ConfigStatement]) -> (KeepalivedConfiguration, [KeepalivedDiagnostic]) {
        var config = KeepalivedConfiguration()
        var values = ValueReader()
        var instanceStatements: [ConfigStatement] = []
        for s in statements {
            switch s.keyword {
            case "global_defs":
                globalTable.apply(values.block(s), to: &config.global, reader: &values)
            case "vrrp_script":
                guard let name = values.argument(s) else { continue }
                var def = TrackScriptDefinition(name: name, location: s.location)
                scriptTable.apply(values.block(s), to: &def, reader: &values)
                if def.script.isEmpty { values.error("vrrp_script \(name) has no 'script'", s) }
                if config.scripts[name] != nil { values.error("vrrp_script \(name) is defined twice", s) }
                config.scripts[name] = def
            case "vrrp_track_file":
                guard let name = values.argument(s) else { continue }
                var def = TrackFileDefinition(name: name, location: s.location)
                trackFileTable.apply(values.block(s), to: &def, reader: &values)
                if def.path.isEmpty { values.error("vrrp_track_file \(name) has no 'file'", s) }
                config.trackFiles[name] = def
            case "vrrp_track_process":
                guard let name = values.argument(s) else { continue }
                var def = TrackProcessDefinition(name: name, location: s.location)
                trackProcessTable.apply(values.block(s), to: &def, reader: &values)
                validate(&def, statement: s, values: &values)
                config.trackProcesses[name] = def
            case "vrrp_instance":
                instanceStatements.append(s)
            case "vrrp_sync_group":
                guard let name = values.argument(s) else { continue }
                var group = SyncGroupConfig(name: name, location: s.location)
                syncGroupTable.apply(values.block(s), to: &group, reader: &values)
                config.syncGroups.append(group)
            case "virtual_server", "virtual_server_group", "real_server":
                values.error("'\(s.keyword)' is not supported: \(lvsReason)", s)
            case "bfd_instance":
                values.error("'bfd_instance' is not supported by fulcrum-vrrp: BFD is not implemented", s)
            case "static_ipaddress", "static_routes", "static_rules", "virtual_routes", "virtual_rules":
                values.error("'\(s.keyword)' is not supported by fulcrum-vrrp: only virtual addresses are managed", s)
            case "net_namespace", "net_namespace_ipvs", "instance":
                values.error("'\(s.keyword)' is not supported by fulcrum-vrrp: start it inside the namespace instead", s)
            case "linkbeat_use_polling":
                values.warning("'linkbeat_use_polling' has no effect: link state comes from rtnetlink events", s)
            default:
                values.error("unknown top-level keyword '\(s.keyword)'", s)
            }
        }
        // Instances after everything else: their references may point at scripts defined later.
        for s in instanceStatements {
            guard let name = values.argument(s) else { continue }
            var instance = VRRPInstanceConfig(name: name, location: s.location)
            instanceTable.apply(values.block(s), to: &instance, reader: &values)
            validate(&instance, statement: s, config: config, values: &values)
            config.instances.append(instance)
        }
        validateAcrossInstances(config, values: &values)
        return (config, values.diagnostics)
    }

    static func validate(_ i: inout VRRPInstanceConfig, statement s: ConfigStatement, config: KeepalivedConfiguration, values: inout ValueReader) {
        let version = i.effectiveVersion(config.global)
        if i.interface.isEmpty { values.error("vrrp_instance \(i.name) has no 'interface'", s) }
        if i.virtualRouterID == 0 { values.error("vrrp_instance \(i.name) has no 'virtual_router_id'", s) }
        if i.virtualAddresses.isEmpty { values.warning("vrrp_instance \(i.name) has no virtual_ipaddress", s) }
        let families = Set(i.virtualAddresses.map(\.address.isIPv6))
        if families.count > 1 { values.error("vrrp_instance \(i.name) mixes IPv4 and IPv6 virtual addresses; use one instance per family", s) }
        if i.isIPv6 && version == 2 {
            values.error("vrrp_instance \(i.name) has IPv6 addresses: VRRPv2 is IPv4 only, add 'version 3'", s)
        }
        if version == 2 && i.advertIntervalCentiseconds % 100 != 0 {
            values.error("vrrp_instance \(i.name): VRRPv2 advert_int must be whole seconds", s)
        }
        if version == 3 && i.authType != .none {
            values.error("vrrp_instance \(i.name): VRRPv3 has no authentication; remove the 'authentication' block", s)
        }
        for peer in i.unicastPeers where peer.isIPv6 != i.isIPv6 {
            values.error("vrrp_instance \(i.name): unicast_peer \(peer) is not of the virtual addresses' family", s)
        }
        if i.priority == 255 && !i.preempt {
            values.warning("vrrp_instance \(i.name): 'nopreempt' has no effect for the address owner (priority 255)", s)
        }
        for r in i.trackScripts where config.scripts[r.name] == nil {
            values.diagnostics.append(.init(.error, "track_script \(r.name) in vrrp_instance \(i.name) names no vrrp_script", at: r.location))
        }
        for r in i.trackFiles where config.trackFiles[r.name] == nil {
            values.diagnostics.append(.init(.error, "track_file \(r.name) in vrrp_instance \(i.name) names no vrrp_track_file", at: r.location))
        }
        for r in i.trackProcesses where config.trackProcesses[r.name] == nil {
            values.diagnostics.append(.init(.error, "track_process \(r.name) in vrrp_instance \(i.name) names no vrrp_track_process", at: r.location))
        }
    }

    /// keepalived's rules between the `vrrp_track_process` keywords, in any order.
    static func validate(_ def: inout TrackProcessDefinition, statement s: ConfigStatement, values: inout ValueReader) {
        if def.process.isEmpty { values.error("vrrp_track_process \(def.name) has no 'process'", s); return }
        if def.parameters != nil && def.parameterMatch == nil { def.parameterMatch = .exact }
        if let max = def.quorumMax {
            // quorum_max 0: up while no such process runs.
            if max == 0 && def.quorum <= 1 {
                def.quorum = 0
            } else if max < def.quorum {
                values.error("vrrp_track_process \(def.name): quorum_max \(max) is less than quorum \(def.quorum)", s)
            }
        }
        // The kernel's name for a process is its executable's file name cut to 15 bytes.
        if !def.fullCommand && (def.process.utf8.count > 15 || def.process.contains("/")) {
            values.warning("vrrp_track_process \(def.name): '\(def.process)' is matched against process names, which have no directory and at most 15 characters, so it never matches; add 'full_command' to match the command line", s)
        }
    }

    static func validateAcrossInstances(_ config: KeepalivedConfiguration, values: inout ValueReader) {
        var seen: [String: VRRPInstanceConfig] = [:]
        for i in config.instances where i.virtualRouterID != 0 {
            let key = "\(i.interface)/\(i.isIPv6)/\(i.virtualRouterID)"
            if let other = seen[key] {
                values.diagnostics.append(.init(.error, "vrrp_instance \(i.name) uses virtual_router_id \(i.virtualRouterID) on \(i.interface) like \(other.name) (\(other.location))", at: i.location))
            }
            seen[key] = i
        }
        let names = Set(config.instances.map(\.name))
        if names.count != config.instances.count { values.diagnostics.append(.init(.error, "two vrrp_instance blocks have the same name")) }
        for g in config.syncGroups {
            for member in g.instances where !names.contains(member) {
                values.diagnostics.append(.init(.error, "vrrp_sync_group \(g.name) names unknown vrrp_instance \(member)", at: g.location))
            }
            for r in g.trackScripts where config.scripts[r.name] == nil {
                values.diagnostics.append(.init(.error, "track_script \(r.name) in vrrp_sync_group \(g.name) names no vrrp_script", at: r.location))
            }
        }
    }

    // MARK: - tables

    typealias E<M> = KeywordTable<M>.Entry

    static let acceptedNoEffect = "accepted for compatibility, no effect"

    static func noEffect<M>(_ name: String) -> E<M> {
        E(name: name, usage: acceptedNoEffect) { _, s, v in
            v.diagnostics.append(.init(.notice, "'\(name)' is \(acceptedNoEffect)", at: s.location))
        }
    }

    static let globalTable = KeywordTable<GlobalDefinitions>(block: "global_defs", [
        E(name: "router_id", usage: "NAME") { g, s, v in g.routerID = v.argument(s) },
        E(name: "enable_script_security", usage: "") { g, s, v in g.enableScriptSecurity = v.flag(s) },
        E(name: "script_user", usage: "USER [GROUP]") { g, s, v in
            g.scriptUser = v.runAs(s, from: 1)
            g.scriptUserLocation = s.location
        },
        E(name: "vrrp_version", usage: "2|3") { g, s, v in if let n = v.int(s, 2...3) { g.vrrpVersion = n } },
        E(name: "vrrp_garp_master_delay", usage: "SECONDS") { g, s, v in if let n = v.int(s, 0...86400) { g.garpMasterDelay = n } },
        E(name: "vrrp_garp_master_repeat", usage: "COUNT") { g, s, v in if let n = v.int(s, 1...255) { g.garpMasterRepeat = n } },
        E(name: "vrrp_garp_master_refresh", usage: "SECONDS") { g, s, v in if let n = v.int(s, 0...86400) { g.garpMasterRefresh = n } },
        E(name: "vrrp_garp_master_refresh_repeat", usage: "COUNT") { g, s, v in if let n = v.int(s, 1...255) { g.garpMasterRefreshRepeat = n } },
        E(name: "vrrp_garp_interval", usage: "SECONDS") { g, s, v in if let d = v.seconds(s, 0...1) { g.garpIntervalMicroseconds = Int(d * 1_000_000) } },
        E(name: "vrrp_gna_interval", usage: "SECONDS") { g, s, v in if let d = v.seconds(s, 0...1) { g.gnaIntervalMicroseconds = Int(d * 1_000_000) } },
        E(name: "vrrp_higher_prio_send_advert", usage: "") { g, s, v in g.higherPrioritySendAdvert = v.flag(s) },
        E(name: "vrrp_lower_prio_no_advert", usage: "") { g, s, v in g.lowerPriorityNoAdvert = v.flag(s) },
        E(name: "vrrp_garp_lower_prio_repeat", usage: "COUNT") { g, s, v in if let n = v.int(s, 0...255) { g.garpLowerPriorityRepeat = n } },
        E(name: "vrrp_strict", usage: "") { g, s, v in g.strict = v.flag(s) },
        E(name: "vrrp_mcast_group4", usage: "ADDRESS") { g, s, v in
            if let t = v.argument(s), let a = v.address(t, s) { g.mcastGroup4 = a }
        },
        E(name: "vrrp_mcast_group6", usage: "ADDRESS") { g, s, v in
            if let t = v.argument(s), let a = v.address(t, s) { g.mcastGroup6 = a }
        },
        noEffect("vrrp_iptables"), noEffect("notification_email"), noEffect("notification_email_from"),
        noEffect("smtp_server"), noEffect("smtp_connect_timeout"), noEffect("smtp_helo_name"),
        noEffect("vrrp_skip_check_adv_addr"), noEffect("vrrp_check_unicast_src"), noEffect("enable_traps"),
        noEffect("vrrp_no_swap"), noEffect("vrrp_priority"), noEffect("max_auto_priority"),
        noEffect("dynamic_interfaces"), noEffect("script_security"),
    ], refused: [
        "lvs_id": lvsReason, "lvs_sync_daemon": lvsReason, "lvs_timeouts": lvsReason, "lvs_flush": lvsReason,
        "bfd_priority": "BFD is not implemented", "bfd_no_swap": "BFD is not implemented",
        "vmac_prefix": "VMACs (use_vmac) are not implemented", "vmac_addr_prefix": "VMACs (use_vmac) are not implemented",
    ])

    static let scriptTable = KeywordTable<TrackScriptDefinition>(block: "vrrp_script", [
        E(name: "script", usage: "\"COMMAND ARGS\"") { d, s, v in if let c = v.command(s) { d.script = c } },
        E(name: "interval", usage: "SECONDS") { d, s, v in if let x = v.seconds(s, 0.001...86400) { d.intervalSeconds = x } },
        E(name: "timeout", usage: "SECONDS") { d, s, v in if let x = v.seconds(s, 0.001...86400) { d.timeoutSeconds = x } },
        E(name: "weight", usage: "-253..253 [reverse]") { d, s, v in if let w = v.weight(s, from: 0) { d.weight = w } },
        E(name: "rise", usage: "COUNT") { d, s, v in if let n = v.int(s, 1...1_000_000) { d.rise = n } },
        E(name: "fall", usage: "COUNT") { d, s, v in if let n = v.int(s, 1...1_000_000) { d.fall = n } },
        E(name: "user", usage: "USER [GROUP]") { d, s, v in
            d.user = v.runAs(s, from: 1)
            d.userLocation = s.location
        },
        E(name: "init_fail", usage: "") { d, _, _ in d.initFail = true },
    ])

    static let trackFileTable = KeywordTable<TrackFileDefinition>(block: "vrrp_track_file", [
        E(name: "file", usage: "PATH") { d, s, v in if let p = v.argument(s) { d.path = p } },
        E(name: "weight", usage: "-254..254 [reverse]") { d, s, v in if let w = v.weight(s, from: 0) { d.weight = w } },
        E(name: "init_file", usage: "[VALUE] [overwrite]") { d, s, _ in d.initValue = s.words.count > 1 ? Int(s.words[1]) ?? 0 : 0 },
    ])

    static let trackProcessTable = KeywordTable<TrackProcessDefinition>(block: "vrrp_track_process", [
        E(name: "process", usage: "NAME [PARAM...]") { d, s, v in
            guard let p = v.argument(s) else { return }
            d.process = p
            if s.words.count > 2 {
                d.parameters = Array(s.words[2...])
                d.fullCommand = true
            }
        },
        E(name: "param_match", usage: "[initial|partial]") { d, s, v in
            switch s.words.count > 1 ? s.words[1] : nil {
            case nil: d.parameterMatch = .exact
            case "initial": d.parameterMatch = .initial
            case "partial": d.parameterMatch = .partial
            case let other?:
                v.error("'param_match' takes nothing, 'initial' or 'partial', not '\(other)'", s)
                return
            }
            d.fullCommand = true
        },
        E(name: "quorum", usage: "COUNT") { d, s, v in if let n = v.int(s, 1...65535) { d.quorum = n } },
        E(name: "quorum_max", usage: "COUNT") { d, s, v in d.quorumMax = v.int(s, 0...65535) },
        E(name: "weight", usage: "-254..254 [reverse]") { d, s, v in if let w = v.weight(s, from: 0) { d.weight = w } },
        E(name: "delay", usage: "SECONDS") { d, s, v in
            if let x = v.seconds(s, 0...3600) { d.terminateDelaySeconds = x; d.forkDelaySeconds = x }
        },
        E(name: "terminate_delay", usage: "SECONDS") { d, s, v in if let x = v.seconds(s, 0...3600) { d.terminateDelaySeconds = x } },
        E(name: "fork_delay", usage: "SECONDS") { d, s, v in if let x = v.seconds(s, 0...3600) { d.forkDelaySeconds = x } },
        E(name: "full_command", usage: "") { d, _, _ in d.fullCommand = true },
    ])

    static func references() -> @Sendable (inout [TrackReference], ConfigStatement, inout ValueReader) -> Void {
        { list, s, v in
            for line in v.block(s) {
                let weight = line.words.count > 1 ? v.weight(line, from: 1) : nil
                list.append(TrackReference(name: line.keyword, weight: weight, location: line.location))
            }
        }
    }

    static let vmacReason = "VMACs are not implemented; the virtual addresses go on the interface itself"

    static let instanceTable = KeywordTable<VRRPInstanceConfig>(block: "vrrp_instance", [
        E(name: "state", usage: "MASTER|BACKUP") { i, s, v in
            guard let t = v.argument(s) else { return }
            guard let st = VRRPInstanceConfig.InitialState(rawValue: t.uppercased()) else {
                v.error("'state' must be MASTER or BACKUP, not '\(t)'", s); return
            }
            i.initialState = st
        },
        E(name: "interface", usage: "IFNAME") { i, s, v in if let t = v.argument(s) { i.interface = t } },
        E(name: "virtual_router_id", usage: "1..255") { i, s, v in if let n = v.int(s, 1...255) { i.virtualRouterID = n } },
        E(name: "priority", usage: "1..255") { i, s, v in if let n = v.int(s, 1...255) { i.priority = n } },
        E(name: "advert_int", usage: "SECONDS") { i, s, v in
            if let x = v.seconds(s, 0.01...255) { i.advertIntervalCentiseconds = Int((x * 100).rounded()) }
        },
        E(name: "version", usage: "2|3") { i, s, v in i.version = v.int(s, 2...3) },
        E(name: "nopreempt", usage: "") { i, _, _ in i.preempt = false },
        E(name: "preempt", usage: "") { i, _, _ in i.preempt = true },
        E(name: "preempt_delay", usage: "SECONDS") { i, s, v in if let x = v.seconds(s, 0...1000) { i.preemptDelaySeconds = x } },
        E(name: "authentication", usage: "{ auth_type PASS; auth_pass SECRET }") { i, s, v in
            for a in v.block(s) {
                switch a.keyword {
                case "auth_type":
                    guard let t = v.argument(a) else { continue }
                    switch t.uppercased() {
                    case "PASS": i.authType = .pass
                    case "AH": v.error("auth_type AH is not supported (keepalived deprecates it too); use PASS or none", a)
                    default: v.error("auth_type must be PASS, not '\(t)'", a)
                    }
                case "auth_pass":
                    guard let p = v.argument(a) else { continue }
                    if p.utf8.count > 8 { v.warning("auth_pass is longer than 8 characters; only the first 8 are used, as keepalived does", a) }
                    i.authPassword = String(decoding: p.utf8.prefix(8), as: UTF8.self)
                default:
                    v.error("unknown keyword '\(a.keyword)' in authentication", a)
                }
            }
        },
        E(name: "virtual_ipaddress", usage: "{ ADDRESS[/PREFIX] [brd ADDR] [dev IF] [scope SCOPE] [label LABEL] }") { i, s, v in
            for line in v.block(s) { if let a = virtualAddress(line, &v) { i.virtualAddresses.append(a) } }
        },
        E(name: "virtual_ipaddress_excluded", usage: "{ ADDRESS[/PREFIX] ... }") { i, s, v in
            for line in v.block(s) { if let a = virtualAddress(line, &v) { i.excludedAddresses.append(a) } }
        },
        E(name: "unicast_src_ip", usage: "ADDRESS") { i, s, v in
            if let t = v.argument(s), let a = v.address(t, s) { i.unicastSourceIP = a }
        },
        E(name: "unicast_peer", usage: "{ ADDRESS [min_ttl N] [max_ttl N] ... }") { i, s, v in
            for line in v.block(s) {
                guard let a = v.address(line.keyword, line) else { continue }
                i.unicastPeers.append(a)
                var range: TTLRange?
                var k = 1
                while k < line.words.count {
                    let word = line.words[k]
                    guard word == "min_ttl" || word == "max_ttl", k + 1 < line.words.count, let n = Int(line.words[k + 1]), (0...255).contains(n) else {
                        v.warning("'\(line.words[k...].joined(separator: " "))' after a unicast peer is ignored (min_ttl/max_ttl take 0..255)", line)
                        break
                    }
                    var r = range ?? TTLRange()
                    if word == "min_ttl" { r.min = n } else { r.max = n }
                    range = r
                    k += 2
                }
                if let range {
                    i.unicastPeerTTL[a] = range
                    if range.min > range.max { v.warning("(\(i.name)) min_ttl \(range.min) > max_ttl \(range.max) - all packets will be discarded", line) }
                }
            }
        },
        E(name: "track_script", usage: "{ NAME [weight N [reverse]] }") { i, s, v in references()(&i.trackScripts, s, &v) },
        E(name: "track_interface", usage: "{ IFNAME [weight N [reverse]] }") { i, s, v in references()(&i.trackInterfaces, s, &v) },
        E(name: "track_file", usage: "{ NAME [weight N [reverse]] }") { i, s, v in references()(&i.trackFiles, s, &v) },
        E(name: "track_process", usage: "{ NAME [weight N [reverse]] }") { i, s, v in references()(&i.trackProcesses, s, &v) },
        E(name: "garp_master_delay", usage: "SECONDS") { i, s, v in i.garpMasterDelay = v.int(s, 0...86400) },
        E(name: "unicast_ttl", usage: "1-255") { i, s, v in i.unicastTTL = v.int(s, 1...255) ?? 255 },
        E(name: "garp_master_repeat", usage: "COUNT") { i, s, v in i.garpMasterRepeat = v.int(s, 1...255) },
        E(name: "garp_master_refresh", usage: "SECONDS") { i, s, v in i.garpMasterRefresh = v.int(s, 0...86400) },
        E(name: "higher_prio_send_advert", usage: "") { i, s, v in i.higherPrioritySendAdvert = v.flag(s) },
        E(name: "lower_prio_no_advert", usage: "") { i, s, v in i.lowerPriorityNoAdvert = v.flag(s) },
        E(name: "notify_master", usage: "SCRIPT [USER [GROUP]]") { i, s, v in i.notifyMaster = v.notifyCommand(s); i.notifyUsers["notify_master"] = v.runAs(s, from: 2) },
        E(name: "notify_backup", usage: "SCRIPT [USER [GROUP]]") { i, s, v in i.notifyBackup = v.notifyCommand(s); i.notifyUsers["notify_backup"] = v.runAs(s, from: 2) },
        E(name: "notify_fault", usage: "SCRIPT [USER [GROUP]]") { i, s, v in i.notifyFault = v.notifyCommand(s); i.notifyUsers["notify_fault"] = v.runAs(s, from: 2) },
        E(name: "notify_stop", usage: "SCRIPT [USER [GROUP]]") { i, s, v in i.notifyStop = v.notifyCommand(s); i.notifyUsers["notify_stop"] = v.runAs(s, from: 2) },
        E(name: "notify", usage: "SCRIPT [USER [GROUP]]") { i, s, v in i.notify = v.notifyCommand(s); i.notifyUsers["notify"] = v.runAs(s, from: 2) },
        E(name: "dont_track_primary", usage: "") { i, _, _ in i.dontTrackPrimary = true },
        noEffect("smtp_alert"), noEffect("debug"), noEffect("strict_mode"), noEffect("skip_check_adv_addr"),
        noEffect("check_unicast_src"), noEffect("accept"), noEffect("no_accept"), noEffect("mcast_src_ip"),
        noEffect("native_ipv6"), noEffect("notify_master_rx_lower_pri"), 
        noEffect("garp_lower_prio_repeat"), noEffect("garp_lower_prio_delay"), noEffect("garp_master_refresh_repeat"),
    ], refused: [
        "use_vmac": vmacReason, "vmac_xmit_base": vmacReason, "use_ipvlan": vmacReason,
        "track_bfd": "BFD is not implemented",
        "virtual_routes": "only virtual addresses are managed", "virtual_rules": "only virtual addresses are managed",
        "kernel_rx_buf_size": "not implemented",
    ])

    static let syncGroupTable = KeywordTable<SyncGroupConfig>(block: "vrrp_sync_group", [
        E(name: "group", usage: "{ INSTANCE ... }") { g, s, v in
            for line in v.block(s) { g.instances += line.words }
        },
        E(name: "track_script", usage: "{ NAME [weight N [reverse]] }") { g, s, v in references()(&g.trackScripts, s, &v) },
        E(name: "notify_master", usage: "SCRIPT [USER [GROUP]]") { g, s, v in g.notifyMaster = v.notifyCommand(s); g.notifyUsers["notify_master"] = v.runAs(s, from: 2) },
        E(name: "notify_backup", usage: "SCRIPT [USER [GROUP]]") { g, s, v in g.notifyBackup = v.notifyCommand(s); g.notifyUsers["notify_backup"] = v.runAs(s, from: 2) },
        E(name: "notify_fault", usage: "SCRIPT [USER [GROUP]]") { g, s, v in g.notifyFault = v.notifyCommand(s); g.notifyUsers["notify_fault"] = v.runAs(s, from: 2) },
        E(name: "notify_stop", usage: "SCRIPT [USER [GROUP]]") { g, s, v in g.notifyStop = v.notifyCommand(s); g.notifyUsers["notify_stop"] = v.runAs(s, from: 2) },
        E(name: "notify", usage: "SCRIPT [USER [GROUP]]") { g, s, v in g.notify = v.notifyCommand(s); g.notifyUsers["notify"] = v.runAs(s, from: 2) },
        noEffect("smtp_alert"), noEffect("global_tracking"), noEffect("sync_group_tracking_weight"),
    ], refused: [
        "track_interface": "track interfaces in the member instances",
        "track_bfd": "BFD is not implemented",
    ])

    static func virtualAddress(_ s: ConfigStatement, _ v: inout ValueReader) -> VirtualAddress? {
        let text = s.keyword
        var addressText = Substring(text)
        var prefix: Int?
        if let slash = text.firstIndex(of: "/") {
            addressText = text[..<slash]
            guard let p = Int(text[text.index(after: slash)...]) else { v.error("bad prefix length in '\(text)'", s); return nil }
            prefix = p
        }
        guard let address = v.address(String(addressText), s) else { return nil }
        if let p = prefix, p < 0 || p > (address.isIPv4 ? 32 : 128) { v.error("prefix length /\(p) out of range for \(address)", s); return nil }
        var vip = VirtualAddress(address: address, prefixLength: prefix)
        var words = s.words.dropFirst()[...]
        while let word = words.first {
            words = words.dropFirst()
            func value() -> String? {
                guard let next = words.first else { v.error("'\(word)' needs a value in virtual address '\(text)'", s); return nil }
                words = words.dropFirst()
                return next
            }
            switch word {
            case "brd":
                if let t = value() { vip.broadcast = v.address(t, s) }
            case "dev":
                vip.device = value()
            case "scope":
                guard let t = value() else { continue }
                guard let sc = VirtualAddress.Scope(rawValue: t) else { v.error("unknown scope '\(t)'", s); continue }
                vip.scope = sc
            case "label":
                vip.label = value()
            case "no_track":
                v.warning("'no_track' is ignored", s)
            default:
                v.error("'\(word)' in a virtual address is not supported by fulcrum-vrrp (brd, dev, scope and label are)", s)
                return nil
            }
        }
        return vip
    }
}
