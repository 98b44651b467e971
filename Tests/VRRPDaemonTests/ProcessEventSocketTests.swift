import Testing
import Foundation
@testable import VRRPDaemon

/// The proc connector's messages, decoded from bytes: some recorded from Linux 6.18 (a
/// shell, pid 6506, forked by pid 6465, renaming itself with `echo renamed >
/// /proc/$$/comm` and exec'ing /bin/true; a thread starting and ending), others built
/// by hand.
@Suite struct ProcessEventSocketTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    static let recordedAck = bytes("4c000000030000003a2900000000000001000000010000003a2900000100000028000000000000000000000038b2a7fe7e1e0000000000000000000000000000000000000000000000000000")
    static let recordedFork = bytes("4c000000030000003b2900000000000001000000010000003b29000000000000280000000100000000000000ff56a9fe7e1e000041190000411900006a1900006a1900000000000000000000")
    static let recordedExec = bytes("4c000000030000003c2900000000000001000000010000003c29000000000000280000000200000000000000e1b5adfe7e1e00006a1900006a19000000000000000000000000000000000000")
    static let recordedComm = bytes("4c000000030000003d2900000000000001000000010000003d2900000000000028000000000200000000000036bbb9fe7e1e00006a1900006a19000072656e616d65640a0000000000000000")
    static let recordedExit = bytes("4c000000030000003f2900000000000001000000010000003f29000000000000280000000000008000000000a0f1c2fe7e1e00006a1900006a19000000000000110000004119000041190000")
    /// A thread (6746) of process 6705 (whose parent is 6702) started, then ended.
    static let recordedThreadFork = bytes("4c00000003000000042b0000000000000100000001000000042b000000000000280000000100000000000000e4ec01e5891e00002e1a00002e1a00005a1a0000311a00000000000000000000")
    static let recordedThreadExit = bytes("4c00000003000000052b0000000000000100000001000000052b000000000000280000000000008000000000474b48e8891e00005a1a0000311a000000000000ffffffff0000000000000000")

    /// One message: nlmsghdr, cn_msg, proc_event (what, cpu, timestamp, 24 bytes of data).
    static func message(what: UInt32, data: [Int32] = [], name: String? = nil, index: UInt32 = 1, ack: UInt32 = 0, type: UInt16 = 3) -> [UInt8] {
        var event: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) { withUnsafeBytes(of: v) { out += $0 } }
        put(what, &event); put(UInt32(0), &event); put(UInt64(123_456_789), &event)
        for d in data { put(d, &event) }
        if let name { event += Array(name.utf8.prefix(15)) + [UInt8](repeating: 0, count: 16 - min(15, name.utf8.count)) }
        event += [UInt8](repeating: 0, count: 40 - event.count)
        var out: [UInt8] = []
        put(UInt32(16 + 20 + event.count), &out); put(type, &out); put(UInt16(0), &out); put(UInt32(9), &out); put(UInt32(0), &out)
        put(index, &out); put(UInt32(1), &out); put(UInt32(9), &out); put(ack, &out); put(UInt16(event.count), &out); put(UInt16(0), &out)
        return out + event
    }

    @Test func recordedMessages() {
        #expect(ProcessEventSocket.decode(Self.recordedAck) == [.ack(1, error: 0)])
        #expect(ProcessEventSocket.decode(Self.recordedFork) == [.fork(parent: 6465, child: 6506)])
        #expect(ProcessEventSocket.decode(Self.recordedExec) == [.exec(6506)])
        // Written through /proc/PID/comm, the name keeps the newline echo added.
        #expect(ProcessEventSocket.decode(Self.recordedComm) == [.comm(6506, "renamed\n")])
        #expect(ProcessEventSocket.decode(Self.recordedExit) == [.exit(6506)])
    }

    /// Threads are not processes: their creation and end are left out.
    @Test func threadEventsAreLeftOut() {
        #expect(ProcessEventSocket.decode(Self.recordedThreadFork) == [])
        #expect(ProcessEventSocket.decode(Self.recordedThreadExit) == [])
        #expect(ProcessEventSocket.decode(Self.message(what: 2, data: [101, 100])) == [])
        #expect(ProcessEventSocket.decode(Self.message(what: 0x200, data: [101, 100], name: "worker")) == [])
    }

    @Test func builtMessages() {
        let full = "fifteen-chars-x"
        #expect(ProcessEventSocket.decode(Self.message(what: 0x200, data: [77, 77], name: full)) == [.comm(77, full)])
        #expect(ProcessEventSocket.decode(Self.message(what: 0, data: [1], ack: 43)) == [.ack(43, error: 1)])
        // Several messages in one datagram, in order.
        let batch = Self.message(what: 1, data: [1, 1, 50, 50]) + Self.message(what: 2, data: [50, 50]) + Self.message(what: 0x8000_0000, data: [50, 50, 0, 17])
        #expect(ProcessEventSocket.decode(batch) == [.fork(parent: 1, child: 50), .exec(50), .exit(50)])
        // Events of no interest (uid change, ptrace, coredump), the ack-less "none".
        for what: UInt32 in [4, 0x40, 0x80, 0x100, 0x4000_0000, 0] {
            #expect(ProcessEventSocket.decode(Self.message(what: what, data: [5, 5])) == [])
        }
    }

    @Test func malformedInputIsSkipped() {
        let exec = Self.message(what: 2, data: [50, 50])
        // Truncated anywhere: nothing, and no crash.
        for n in 0..<exec.count { #expect(ProcessEventSocket.decode(Array(exec.prefix(n))) == []) }
        // Another connector (index 2), an NLMSG_ERROR, a noop: skipped, the next one read.
        #expect(ProcessEventSocket.decode(Self.message(what: 2, data: [50, 50], index: 2) + exec) == [.exec(50)])
        #expect(ProcessEventSocket.decode(Self.message(what: 2, data: [50, 50], type: 2) + exec) == [.exec(50)])
        #expect(ProcessEventSocket.decode(Self.message(what: 2, data: [50, 50], type: 1) + exec) == [.exec(50)])
        // A length that claims more than there is stops the walk.
        var lying = exec
        lying[0] = 200
        #expect(ProcessEventSocket.decode(lying + exec) == [])
        // A cn_msg claiming less data than an exec needs.
        var short = exec
        short[16 + 16] = 12
        #expect(ProcessEventSocket.decode(short) == [])
        var random = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let junk = (0..<Int.random(in: 0..<200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = ProcessEventSocket.decode(junk)
        }
    }

    @Test func subscriptionMessage() {
        let listen = ProcessEventSocket.subscription(listen: true, ack: 0x1234)
        #expect(listen == [40, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                           1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x34, 0x12, 0, 0, 4, 0, 0, 0,
                           1, 0, 0, 0])
        #expect(ProcessEventSocket.subscription(listen: false, ack: 0).suffix(4) == [2, 0, 0, 0])
    }

    /// With the privileges the lab tests have, the kernel's own events for a process
    /// started here: exec and exit (its fork comes from this untracked test runner).
    @Test func liveEventsForAChild() throws {
        let socket: ProcessEventSocket
        do {
            socket = try ProcessEventSocket.open()
        } catch {
            print("skipping live process events: \(error)")
            return
        }
        let child = try Process.run(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "exec /bin/true"])
        child.waitUntilExit()
        let pid = child.processIdentifier
        var seen: [ProcessEventSocket.Event] = []
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && !seen.contains(.exit(pid)) {
            var p = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, 100)
            let (events, _, failure) = socket.read()
            #expect(failure == nil)
            seen += events.filter {
                switch $0 {
                case .exec(let e), .exit(let e): return e == pid
                case .fork(_, let c): return c == pid
                default: return false
                }
            }
        }
        #expect(seen.contains(.exec(pid)), "\(seen)")
        #expect(seen.last == .exit(pid), "\(seen)")
    }
}
