import Testing
import Foundation

extension VRRPLabTests {
    /// An instance whose interface does not exist at start-up: fulcrum-vrrp starts (the
    /// other instance runs), keeps that one in FAULT and brings it up when the interface
    /// appears, as keepalived does; likewise when the interface is deleted and created again.
    @Suite struct FulcrumVRRPLateInterfaceTests {
        @Test func instanceWaitsInFaultForItsInterface() throws {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fulcrum-vrrp-late-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let config = dir.appendingPathComponent("h1.conf").path
            try """
            vrrp_instance VI_LATE {
                interface eth1
                virtual_router_id 48
                priority 150
                advert_int 1
                virtual_ipaddress {
                    10.98.0.50
                }
            }
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 47
                priority 150
                advert_int 1
                virtual_ipaddress {
                    10.99.0.50
                }
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
            try VRRPLab.up(2)
            defer { VRRPLab.down() }
            try VRRPLab.startFulcrum("h1", config: config)
            // The instance on eth0 runs meanwhile.
            _ = try VRRPLab.waitOwner(host: "h1", arp: false, since: VRRPLab.now())
            let log = { (try? String(contentsOfFile: "/tmp/vrrp-lab/h1.log", encoding: .utf8)) ?? "" }
            #expect(log().contains("interface eth1 for vrrp_instance VI_LATE doesn't exist"), "\(log())")
            #expect(log().contains("(VI_LATE) Entering FAULT STATE"), "\(log())")
            func late() -> String { VRRPLab.lab("exec", "h1", "ip", "-4", "-o", "addr", "show", "dev", "eth1").stdout }
            for args in [["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"],
                         ["ip", "addr", "add", "10.98.0.1/24", "dev", "eth1"],
                         ["ip", "link", "set", "eth1p", "up"], ["ip", "link", "set", "eth1", "up"]] {
                let r = VRRPLab.labArgs(["exec", "h1"] + args)
                #expect(r.status == 0, "\(args): \(r.stderr)")
            }
            // Alone on its link: master after Master_Down_Interval (about 3.4 s).
            let start = Date()
            while !late().contains("10.98.0.50") && Date().timeIntervalSince(start) < 10 { Thread.sleep(forTimeInterval: 0.1) }
            #expect(late().contains("10.98.0.50"), "\(late())\n\(log())")
            #expect(log().contains("(VI_LATE) interface eth1 now exists"), "\(log())")
            #expect(log().contains("(VI_LATE) Entering MASTER STATE"), "\(log())")
            // Deleted: FAULT; created again: bound to the new interface, master again.
            let faults = log().components(separatedBy: "(VI_LATE) Entering FAULT STATE").count - 1
            let r = VRRPLab.lab("exec", "h1", "ip", "link", "del", "eth1")
            #expect(r.status == 0, "\(r.stderr)")
            let deleted = Date()
            while log().components(separatedBy: "(VI_LATE) Entering FAULT STATE").count - 1 == faults && Date().timeIntervalSince(deleted) < 5 {
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(log().components(separatedBy: "(VI_LATE) Entering FAULT STATE").count - 1 == faults + 1, "\(log())")
            for args in [["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"],
                         ["ip", "addr", "add", "10.98.0.1/24", "dev", "eth1"],
                         ["ip", "link", "set", "eth1p", "up"], ["ip", "link", "set", "eth1", "up"]] {
                let r = VRRPLab.labArgs(["exec", "h1"] + args)
                #expect(r.status == 0, "\(args): \(r.stderr)")
            }
            let again = Date()
            while !late().contains("10.98.0.50") && Date().timeIntervalSince(again) < 10 { Thread.sleep(forTimeInterval: 0.1) }
            #expect(late().contains("10.98.0.50"), "\(late())\n\(log())")
            #expect(log().components(separatedBy: "(VI_LATE) Entering MASTER STATE").count - 1 == 2, "\(log())")
        }
    }
}
