import Testing
import Foundation
@testable import KeepalivedConfig

/// In-memory files for include tests: the reader only ever sees these closures.
func memoryFileSystem(_ files: [String: String]) -> ConfigFileSystem {
    ConfigFileSystem(
        readFile: { files[$0] },
        glob: { pattern in
            if !pattern.contains("*") { return files[pattern] == nil ? [] : [pattern] }
            let parts = pattern.split(separator: "*", maxSplits: 1, omittingEmptySubsequences: false)
            return files.keys.filter { $0.hasPrefix(parts[0]) && $0.hasSuffix(parts[1]) && !$0.dropFirst(parts[0].count).contains("/") }.sorted()
        })
}

let labExamples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/vrrp-lab/examples")

@Suite struct KeepalivedConfigParserTests {
    @Test(arguments: ["v2-mcast", "v2-mcast-adv3", "v2-mcast-garp-fix", "v2-unicast", "v3-mcast"])
    func everyLabExampleParsesWithoutErrors(scenario: String) throws {
        for host in 1...3 {
            let path = labExamples.appendingPathComponent("\(scenario)/h\(host).conf").path
            let (config, diags) = KeepalivedConfigParser.load(path: path)
            #expect(!diags.hasErrors, "\(path): \(diags)")
            #expect(diags.filter { $0.severity == .warning }.isEmpty, "\(diags)")
            let i = try #require(config.instances.first)
            #expect(config.instances.count == 1)
            #expect(i.name == "VI_47")
            #expect(i.virtualRouterID == 47)
            #expect(i.priority == 103 - host)
            #expect(i.initialState == (host == 1 ? .master : .backup))
            #expect(i.interface == "eth0")
            #expect(i.virtualAddresses == [VirtualAddress(address: IPAddress("10.99.0.50")!)])
            #expect(i.virtualAddresses[0].prefixLength == 32)
            #expect(i.advertIntervalCentiseconds == (scenario == "v2-mcast-adv3" ? 300 : 100))
            #expect(i.effectiveVersion(config.global) == (scenario == "v3-mcast" ? 3 : 2))
            #expect(i.trackScripts.map(\.name) == ["chk_health"])
            let script = try #require(config.scripts["chk_health"])
            #expect(script.script == "/usr/bin/test -f /tmp/vrrp-lab/health/h\(host)")
            #expect(script.weight == TrackWeight(10))
            #expect(script.rise == 1 && script.fall == 1 && script.intervalSeconds == 1)
            #expect(config.global.routerID == "vlab-h\(host)")
            #expect(config.global.enableScriptSecurity)
            #expect(config.global.higherPrioritySendAdvert == (scenario == "v2-mcast-garp-fix"))
            if scenario == "v2-unicast" {
                #expect(i.unicastSourceIP == IPAddress("10.99.0.1\(host)"))
                #expect(i.unicastPeers.count == 2)
                #expect(!i.unicastPeers.contains(IPAddress("10.99.0.1\(host)")!))
            }
        }
    }

    @Test func commentsQuotesBracesAndDefinitions() throws {
        let text = """
        ! keepalived comment
        $IFACE=eth1
        $VIP=192.0.2.10
        global_defs {   # trailing comment
            router_id "node one"
        }
        vrrp_instance VI_1
        {
            interface $IFACE
            virtual_router_id 51 ! another comment
            priority 150
            advert_int 0.5
            version 3
            virtual_ipaddress {
                ${VIP}/24 brd 192.0.2.255 dev eth1 scope link label eth1:vip
                192.0.2.11
            }
            track_interface {
                eth1 weight -20
                eth2
            }
        }
        """
        let (config, diags) = KeepalivedConfigParser.parse(text: text)
        #expect(!diags.hasErrors, "\(diags)")
        #expect(config.global.routerID == "node one")
        let i = try #require(config.instances.first)
        #expect(i.interface == "eth1")
        #expect(i.advertIntervalCentiseconds == 50)
        #expect(i.virtualAddresses.count == 2)
        let v = i.virtualAddresses[0]
        #expect(v.address == IPAddress("192.0.2.10") && v.prefixLength == 24 && v.broadcast == IPAddress("192.0.2.255"))
        #expect(v.device == "eth1" && v.scope == .link && v.label == "eth1:vip")
        #expect(i.trackInterfaces == [TrackReference(name: "eth1", weight: TrackWeight(-20), location: SourceLocation(file: "keepalived.conf", line: 19)),
                                      TrackReference(name: "eth2", weight: nil, location: SourceLocation(file: "keepalived.conf", line: 20))])
    }

    @Test func includeWithGlobRelativeToTheIncludingFile() throws {
        let fs = memoryFileSystem([
            "/etc/k/keepalived.conf": "global_defs {\n router_id a\n}\ninclude conf.d/*.conf\n",
            "/etc/k/conf.d/10-script.conf": "vrrp_script chk {\n script \"/bin/true\"\n weight -30 reverse\n}\n",
            "/etc/k/conf.d/20-vi.conf": "vrrp_instance VI {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n 10.0.0.9\n }\n track_script {\n chk weight 5\n }\n bogus_keyword 1\n}\n",
        ])
        let (config, diags) = KeepalivedConfigParser.load(path: "/etc/k/keepalived.conf", fileSystem: fs)
        #expect(config.files == ["/etc/k/keepalived.conf", "/etc/k/conf.d/10-script.conf", "/etc/k/conf.d/20-vi.conf"])
        #expect(config.scripts["chk"]?.weight == TrackWeight(-30, reverse: true))
        #expect(config.instances.first?.trackScripts.first?.weight == TrackWeight(5))
        #expect(diags.errors.map(\.description) == ["/etc/k/conf.d/20-vi.conf:10: error: unknown keyword 'bogus_keyword' in vrrp_instance"])
    }

    @Test func configIDSelectsLines() throws {
        let text = "vrrp_instance VI {\n interface eth0\n virtual_router_id 9\n@h1 priority 150\n@^h1 priority 50\n virtual_ipaddress {\n 10.0.0.9\n }\n}\n"
        #expect(KeepalivedConfigParser.parse(text: text, configID: "h1").0.instances.first?.priority == 150)
        #expect(KeepalivedConfigParser.parse(text: text, configID: "h2").0.instances.first?.priority == 50)
    }

    @Test func unsupportedBlocksAreRefusedWithTheirLocation() {
        let text = """
        virtual_server 10.0.0.1 80 {
            real_server 10.0.0.2 80 {
            }
        }
        bfd_instance b1 {
        }
        vrrp_instance VI {
            interface eth0
            use_vmac
            virtual_router_id 3
            virtual_ipaddress {
                10.0.0.3 home
            }
        }
        """
        let (_, diags) = KeepalivedConfigParser.parse(text: text, file: "k.conf")
        let errors = diags.errors.map(\.description)
        #expect(errors.count == 4, "\(errors)")
        #expect(errors[0].hasPrefix("k.conf:1: error: 'virtual_server' is not supported"))
        #expect(errors[1].hasPrefix("k.conf:5: error: 'bfd_instance' is not supported"))
        #expect(errors.contains { $0.hasPrefix("k.conf:9: error: 'use_vmac' is not supported by fulcrum-vrrp: VMACs") })
        #expect(errors.contains { $0.hasPrefix("k.conf:12: error: 'home' in a virtual address is not supported") })
    }

    @Test func semanticErrors() {
        let text = """
        vrrp_instance A {
            interface eth0
            virtual_router_id 300
            priority 0
            version 3
            authentication {
                auth_type PASS
                auth_pass secret
            }
            virtual_ipaddress {
                2001:db8::1/64
            }
            track_script {
                missing
            }
        }
        vrrp_instance B {
            interface eth0
            virtual_router_id 7
            advert_int 1.5
            virtual_ipaddress {
                10.1.1.1
            }
        }
        vrrp_instance C {
            interface eth0
            virtual_router_id 7
            virtual_ipaddress {
                10.1.1.2
            }
        }
        """
        let (_, diags) = KeepalivedConfigParser.parse(text: text, file: "k.conf")
        let errors = diags.errors.map(\.description)
        #expect(errors.contains("k.conf:3: error: 'virtual_router_id' must be an integer in 1..255, not '300'"))
        #expect(errors.contains("k.conf:4: error: 'priority' must be an integer in 1..255, not '0'"))
        #expect(errors.contains("k.conf:1: error: vrrp_instance A has no 'virtual_router_id'"))
        #expect(errors.contains("k.conf:1: error: vrrp_instance A: VRRPv3 has no authentication; remove the 'authentication' block"))
        #expect(errors.contains("k.conf:14: error: track_script missing in vrrp_instance A names no vrrp_script"))
        #expect(errors.contains("k.conf:17: error: vrrp_instance B: VRRPv2 advert_int must be whole seconds"))
        #expect(errors.contains { $0.hasPrefix("k.conf:25: error: vrrp_instance C uses virtual_router_id 7 on eth0 like B") })
    }

    @Test func unclosedBlockAndStrayBrace() {
        let (_, d1) = KeepalivedConfigParser.parse(text: "global_defs {\n router_id x\n", file: "k.conf")
        #expect(d1.errors.map(\.description) == ["k.conf:1: error: block opened here is never closed with '}'"])
        let (_, d2) = KeepalivedConfigParser.parse(text: "}\n", file: "k.conf")
        #expect(d2.errors.map(\.description) == ["k.conf:1: error: unexpected '}'"])
    }

    @Test func ipAddressText() {
        #expect(IPAddress("10.99.0.50")?.bytes == [10, 99, 0, 50])
        #expect(IPAddress("10.99.0.256") == nil)
        #expect(IPAddress("ff02::12")?.bytes == [0xff, 2] + [UInt8](repeating: 0, count: 13) + [0x12])
        #expect(IPAddress("fe80::1:2")?.description == "fe80::1:2")
        #expect(IPAddress("2001:db8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPAddress("::ffff:10.0.0.1")?.bytes.suffix(4) == [10, 0, 0, 1])
        #expect(IPAddress("1::2::3") == nil)
        #expect(IPAddress("10.0.0.1")! < IPAddress("10.0.0.2")!)
    }
}

@Suite struct ConfigReaderEdgeCaseTests {
    @Test func continuationLinesAndUnknownDefinitions() {
        let text = "$PEERS=10.0.0.2 \\\n  10.0.0.3\nvrrp_instance VI {\n interface eth0\n virtual_router_id 5\n unicast_peer {\n  $PEERS\n }\n notify $MISSING\n virtual_ipaddress {\n  10.0.0.9\n }\n}\n"
        let (config, diags) = KeepalivedConfigParser.parse(text: text, file: "k.conf")
        #expect(diags.contains { $0.description == "k.conf:9: warning: undefined definition $MISSING" }, "\(diags)")
        // A definition expands to several words on one line; only the first is a peer, the rest is reported.
        #expect(config.instances.first?.unicastPeers.first == IPAddress("10.0.0.2"))
    }

    @Test func includeLoopsAndMissingFilesAreReported() {
        let fs = memoryFileSystem(["/k/a.conf": "include b.conf\n", "/k/b.conf": "include a.conf\n"])
        let (_, diags) = KeepalivedConfigParser.load(path: "/k/a.conf", fileSystem: fs)
        #expect(diags.contains { $0.message.contains("include nested too deeply") })
        let (_, missing) = KeepalivedConfigParser.load(path: "/nonexistent/keepalived.conf", fileSystem: fs)
        #expect(missing.errors.map(\.description) == ["error: cannot read configuration file /nonexistent/keepalived.conf"])
        let (_, none) = KeepalivedConfigParser.parse(text: "include /k/none*.conf\n", file: "/k/k.conf", fileSystem: fs)
        #expect(none.map(\.description) == ["/k/k.conf:1: warning: include /k/none*.conf: no file matches"])
    }

    @Test func quotedBracesAndHashesAreWords() throws {
        let text = "vrrp_script s {\n script \"/bin/sh -c 'echo {#!}'\"\n}\n"
        let (config, diags) = KeepalivedConfigParser.parse(text: text)
        #expect(!diags.hasErrors, "\(diags)")
        #expect(config.scripts["s"]?.script == "/bin/sh -c 'echo {#!}'")
    }
}

@Suite struct NotifyKeywordTests {
    @Test func scriptIsOneWordAndAUserMayFollow() throws {
        let text = "vrrp_instance VI {\n interface eth0\n virtual_router_id 5\n notify_master \"/etc/k/master.sh up now\" root\n notify_backup /etc/k/backup.sh\n notify /etc/k/all.sh keepalived_script\n virtual_ipaddress {\n  10.0.0.9\n }\n}\n"
        let (config, diags) = KeepalivedConfigParser.parse(text: text, file: "k.conf")
        let i = try #require(config.instances.first)
        #expect(i.notifyMaster == "/etc/k/master.sh up now")
        #expect(i.notifyBackup == "/etc/k/backup.sh")
        #expect(i.notify == "/etc/k/all.sh")
        #expect(i.notifyUsers == ["notify_master": ScriptRunAs(user: "root"), "notify": ScriptRunAs(user: "keepalived_script")])
        #expect(diags.isEmpty, "\(diags)")
    }

    @Test func scriptUsersAndGroups() throws {
        let text = "global_defs {\n script_user nobody nogroup\n enable_script_security\n}\nvrrp_script s {\n script /bin/true\n user daemon\n}\nvrrp_script t {\n script /bin/true\n user a b c\n}\nvrrp_sync_group G {\n group {\n  VI\n }\n notify_fault /etc/k/f.sh www-data adm\n}\n"
        let (config, diags) = KeepalivedConfigParser.parse(text: text, file: "k.conf")
        #expect(config.global.scriptUser == ScriptRunAs(user: "nobody", group: "nogroup"))
        #expect(config.global.enableScriptSecurity)
        #expect(config.scripts["s"]?.user == ScriptRunAs(user: "daemon"))
        #expect(config.syncGroups.first?.notifyUsers["notify_fault"] == ScriptRunAs(user: "www-data", group: "adm"))
        #expect(diags.contains { $0.description == "k.conf:11: error: 'user' takes a user and a group; unexpected 'c'" }, "\(diags)")
    }
}

@Suite struct UnicastPeerTTLTests {
    @Test func minAndMaxTTLPerPeer() throws {
        let text = "vrrp_instance VI {\n interface eth0\n virtual_router_id 5\n unicast_peer {\n  10.0.0.2 min_ttl 255\n  10.0.0.3\n  10.0.0.4 min_ttl 60 max_ttl 64\n  10.0.0.5 max_ttl 10 min_ttl 20\n  10.0.0.6 hops 3\n }\n virtual_ipaddress {\n  10.0.0.9\n }\n}\n"
        let (config, diags) = KeepalivedConfigParser.parse(text: text, file: "k.conf")
        let i = try #require(config.instances.first)
        #expect(i.unicastPeers.count == 5)
        #expect(i.unicastPeerTTL == [IPAddress("10.0.0.2")!: TTLRange(min: 255, max: 255), IPAddress("10.0.0.4")!: TTLRange(min: 60, max: 64),
                                     IPAddress("10.0.0.5")!: TTLRange(min: 20, max: 10)])
        #expect(diags.map(\.description) == ["k.conf:8: warning: (VI) min_ttl 20 > max_ttl 10 - all packets will be discarded",
                                              "k.conf:9: warning: 'hops 3' after a unicast peer is ignored (min_ttl/max_ttl take 0..255)"])
    }
}
