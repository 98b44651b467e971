import Testing
@testable import KeepalivedConfig

@Suite struct ClusterCheckTests {
    func node(_ name: String, priority: Int, weight: Int = 10, vrid: Int = 47, advert: String = "1", version: Int = 2,
              vips: [String] = ["10.15.85.31"], auth: String? = nil) -> ClusterCheck.Node {
        var text = """
        vrrp_script haproxy-check {
            script "killall -0 haproxy"
            interval 2
            weight \(weight)
        }
        vrrp_instance openstack-vip {
            state BACKUP
            priority \(priority)
            interface eth0
            virtual_router_id \(vrid)
            advert_int \(advert)
            version \(version)
            virtual_ipaddress {
        \(vips.joined(separator: "\n"))
            }
            track_script {
                haproxy-check
            }

        """
        if let auth { text += "authentication {\nauth_type PASS\nauth_pass \(auth)\n}\n" }
        text += "}\n"
        let (config, diags) = KeepalivedConfigParser.parse(text: text, file: name)
        #expect(!diags.hasErrors, "\(diags)")
        return ClusterCheck.Node(name: name, configuration: config)
    }

    @Test func seed002PriorityGapLargerThanTheWeight() {
        // 102/132/162 with weight 10: a failed check on the 162 node leaves it at 162 > 142.
        let findings = ClusterCheck.check([node("n1.conf", priority: 102), node("n2.conf", priority: 132), node("n3.conf", priority: 162)])
        #expect(findings.count == 1)
        #expect(findings.first?.severity == .warning)
        #expect(findings.first?.description.hasPrefix("n3.conf:6: warning: VRID 47 (IPv4): when its track script fails, n3.conf still has priority 162 >= 142") == true)
        // The guide's advice: unique priorities within the weight.
        #expect(ClusterCheck.check([node("n1.conf", priority: 102), node("n2.conf", priority: 101), node("n3.conf", priority: 100)]).isEmpty)
    }

    @Test func mismatchesBetweenNodes() {
        let findings = ClusterCheck.check([
            node("a.conf", priority: 102),
            node("b.conf", priority: 101, advert: "3", version: 3, vips: ["10.15.85.32"], auth: nil),
            node("c.conf", priority: 100, auth: "secret"),
        ]).map(\.description)
        #expect(findings.contains { $0.contains("VRRP version 3 on b.conf but 2 on a.conf") })
        #expect(findings.contains { $0.contains("advert_int 3.0 on b.conf but 1.0 on a.conf") })
        #expect(findings.contains { $0.contains("virtual addresses differ: a.conf has [10.15.85.31], b.conf has [10.15.85.32]") })
        #expect(findings.contains { $0.contains("authentication differs between a.conf and c.conf") })
    }

    @Test func twoOwnersAndLoneInstances() {
        let findings = ClusterCheck.check([node("a.conf", priority: 255), node("b.conf", priority: 255), node("c.conf", priority: 100, vrid: 9)]).map(\.description)
        #expect(findings.contains { $0.contains("a.conf and b.conf all claim priority 255") })
        #expect(findings.contains { $0.contains("VRID 9 (IPv4): vrrp_instance openstack-vip is on c.conf only") })
    }
}
