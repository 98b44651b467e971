import Testing
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension VRRPLabTests {
    /// Scripts run as their `user`, and `enable_script_security` disables a script that a
    /// non-root user could replace (keepalived's behaviour: it is then not tracked).
    @Suite struct FulcrumVRRPScriptUserTests {
        @Test func scriptsRunAsTheirUserAndInsecureOnesAreDisabled() throws {
            let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-users-\(UUID().uuidString)")
            let open = dir.appendingPathComponent("open")
            try FileManager.default.createDirectory(at: open, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            chmod(dir.path, 0o755)
            chmod(open.path, 0o777)
            let insecure = open.appendingPathComponent("fail.sh").path
            try "#!/bin/sh\nexit 1\n".write(toFile: insecure, atomically: true, encoding: .utf8)
            chmod(insecure, 0o755)
            let notify = dir.appendingPathComponent("notify.sh").path
            let out = open.appendingPathComponent("notify.out").path
            try "#!/bin/sh\nid -u > \(out)\n".write(toFile: notify, atomically: true, encoding: .utf8)
            chmod(notify, 0o755)
            let isNobody = dir.appendingPathComponent("is-nobody.sh").path
            try "#!/bin/sh\ntest \"$(id -u)\" = \(nobody)\n".write(toFile: isNobody, atomically: true, encoding: .utf8)
            chmod(isNobody, 0o755)
            let config = dir.appendingPathComponent("h1.conf").path
            try """
            global_defs {
                script_user root
                enable_script_security
            }
            vrrp_script chk_insecure {
                script "\(insecure)"
                interval 1
            }
            vrrp_script chk_user {
                script "\(isNobody)"
                user nobody
                interval 1
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 47
                priority 150
                advert_int 1
                virtual_ipaddress {
                    10.99.0.50
                }
                track_script {
                    chk_insecure
                    chk_user
                }
                notify_master "\(notify)" nobody
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
            try VRRPLab.up(1)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: config)
            // Neither script has a weight: had the insecure one run (it fails), or the
            // other not run as nobody, the instance would be in FAULT.
            _ = try VRRPLab.waitOwner(host: "h1", arp: false, since: VRRPLab.now())
            let log = (try? String(contentsOfFile: "/tmp/vrrp-lab/h1.log", encoding: .utf8)) ?? ""
            #expect(log.contains("VRRP_Script(chk_insecure) Unsafe permissions found for script '\(insecure)' - disabling."), "\(log)")
            #expect(!log.contains("FAULT"), "\(log)")
            for _ in 0..<50 where !FileManager.default.fileExists(atPath: out) { Thread.sleep(forTimeInterval: 0.1) }
            Thread.sleep(forTimeInterval: 0.1)
            #expect((try? String(contentsOfFile: out, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(nobody)")
        }
    }
}
