import Testing
import Foundation

/// The command line without the lab: config test, cluster check, flags.
@Suite struct FulcrumVRRPCommandTests {
    func temporary(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func configTestAcceptsTheLabExamples() {
        for scenario in ["v2-mcast", "v3-mcast", "v2-unicast", "v2-mcast-adv3", "v2-mcast-garp-fix"] {
            let r = VRRPLab.run([VRRPLab.binary, "-t", "-f", VRRPLab.example(scenario, "h1")])
            #expect(r.status == 0, "\(scenario): \(r.stderr)")
            #expect(r.stderr.isEmpty, "\(r.stderr)")
        }
    }

    @Test func configTestReportsFileAndLine() throws {
        let dir = try temporary(["keepalived.conf": "global_defs {\n  router_id x\n}\ninclude more.conf\n",
                                 "more.conf": "vrrp_instance VI {\n  interface eth0\n  virtual_router_id 51\n  use_vmac\n  priority 300\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\nvirtual_server 10.0.0.1 80 {\n}\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("keepalived.conf").path
        let r = VRRPLab.run([VRRPLab.binary, "-t", "-f", path])
        #expect(r.status == 1)
        let more = dir.appendingPathComponent("more.conf").path
        #expect(r.stderr.contains("\(more):4: error: 'use_vmac' is not supported by fulcrum-vrrp"), "\(r.stderr)")
        #expect(r.stderr.contains("\(more):5: error: 'priority' must be an integer in 1..255, not '300'"), "\(r.stderr)")
        #expect(r.stderr.contains("\(more):10: error: 'virtual_server' is not supported"), "\(r.stderr)")
        // Refused at start too, not only with -t.
        let start = VRRPLab.run([VRRPLab.binary, "-n", "-l", "--no-syslog", "-f", path])
        #expect(start.status == 1)
        #expect(start.stderr.contains("configuration has errors, not starting"))
    }

    /// A track script whose user does not exist: the config test says so at the
    /// `user` line (keepalived's does too) and fails; a known user passes.
    @Test func configTestChecksScriptUsers() throws {
        func config(_ user: String) -> String {
            "vrrp_script chk {\n  script \"/bin/true\"\n  user \(user)\n}\nvrrp_instance VI {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n"
                + "  virtual_ipaddress {\n    10.0.0.1\n  }\n  track_script {\n    chk\n  }\n}\n"
        }
        let dir = try temporary(["bad.conf": config("no-such-user-here"), "good.conf": config("root")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = VRRPLab.run([VRRPLab.binary, "-t", "-f", dir.appendingPathComponent("bad.conf").path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad.conf:3: error: vrrp_script chk: Unable to set uid for script: user 'no-such-user-here' not found"), "\(bad.stderr)")
        let good = VRRPLab.run([VRRPLab.binary, "-t", "-f", dir.appendingPathComponent("good.conf").path])
        #expect(good.status == 0, "\(good.stderr)")
    }

    /// Seed 002's configuration with the priorities it warns about (102/132/162, weight 10).
    @Test func clusterCheckWarnsAboutTheSeed002Gap() throws {
        func node(_ p: Int) -> String {
            "vrrp_script haproxy-check {\n script \"killall -0 haproxy\"\n interval 2\n weight 10\n}\nvrrp_instance openstack-vip {\n state BACKUP\n priority \(p)\n interface eth0\n virtual_router_id 47\n advert_int 3\n virtual_ipaddress {\n 10.15.85.31\n }\n track_script {\n haproxy-check\n }\n}\n"
        }
        let dir = try temporary(["n1.conf": node(102), "n2.conf": node(132), "n3.conf": node(162)])
        defer { try? FileManager.default.removeItem(at: dir) }
        let paths = ["n1.conf", "n2.conf", "n3.conf"].map { dir.appendingPathComponent($0).path }
        let r = VRRPLab.run([VRRPLab.binary, "-t"] + paths.flatMap { ["-f", $0] })
        #expect(r.status == 0)
        #expect(r.stderr.contains("\(paths[2]):6: warning: VRID 47 (IPv4): when its track script fails, \(paths[2]) still has priority 162 >= 142"), "\(r.stderr)")
        // The lab's own cluster is consistent.
        let lab = VRRPLab.run([VRRPLab.binary, "-t"] + ["h1", "h2", "h3"].flatMap { ["-f", VRRPLab.example("v2-mcast", $0)] })
        #expect(lab.status == 0 && lab.stderr.isEmpty, "\(lab.stderr)")
        let mixed = VRRPLab.run([VRRPLab.binary, "-t", "-f", VRRPLab.example("v2-mcast", "h1"), "-f", VRRPLab.example("v3-mcast", "h2")])
        #expect(mixed.status == 1)
        #expect(mixed.stderr.contains("VRRP version 3"), "\(mixed.stderr)")
    }

    @Test func flags() {
        #expect(VRRPLab.run([VRRPLab.binary, "-v"]).status == 0)
        #expect(VRRPLab.run([VRRPLab.binary, "--help"]).stdout.contains("--dont-fork"))
        let bad = VRRPLab.run([VRRPLab.binary, "--frobnicate"])
        #expect(bad.status == 2 && bad.stderr.contains("unknown option --frobnicate"))
        #expect(VRRPLab.run([VRRPLab.binary, "-C"]).stderr.contains("not supported"))
    }
}
