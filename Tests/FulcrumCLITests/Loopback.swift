import Foundation
import Synchronization

/// Helpers for tests that run real processes on loopback: free ports, blocking sockets,
/// waiting for a listener, memory, CPU time and descriptors of a process.
enum Loopback {
    /// A blocking TCP socket connected to 127.0.0.1:port (from `source` when given,
    /// another loopback address for source-address rules), or nil.
    ///
    /// `receiveBuffer` and `segmentSize` narrow what the peer may send at a time, set
    /// before the handshake (the window scale and the MSS are agreed there); the peer's
    /// kernel also sizes its send buffer from the segment size, so it then holds some
    /// tens of KiB for this socket, not megabytes.
    static func connectLoopback(_ port: Int, host: String = "127.0.0.1", source: String? = nil,
                                receiveBuffer: Int32? = nil, segmentSize: Int32? = nil) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        narrow(fd, receiveBuffer: receiveBuffer, segmentSize: segmentSize)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc == 0 { return fd }
        close(fd)
        return nil
    }

    /// Sets a socket's receive buffer and maximum segment size, those given.
    static func narrow(_ fd: Int32, receiveBuffer: Int32?, segmentSize: Int32?) {
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        if var size = segmentSize { setsockopt(fd, Int32(IPPROTO_TCP), TCP_MAXSEG, &size, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// What the kernel holds for the TCP sockets between 127.0.0.1:local and
    /// 127.0.0.1:remote, all told: bytes sent and not yet acknowledged plus bytes
    /// received and not yet read (`tx_queue` and `rx_queue` in /proc/net/tcp); nil when
    /// one of them is not there.
    static func kernelQueued(_ sockets: [(local: Int, remote: Int)]) -> Int? {
        // Read whole: the table is longer than one read gives, and a String read stops there.
        let fd = open("/proc/net/tcp", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        let table = String(decoding: bytes, as: UTF8.self)
        var total = 0
        for (local, remote) in sockets {
            // 127.0.0.1 as the table prints it: the address's bytes in host order.
            let addresses = String(format: " 0100007F:%04X 0100007F:%04X ", local, remote)
            guard let found = table.range(of: addresses) else { return nil }
            let fields = table[found.upperBound...].prefix { $0 != "\n" }.split(separator: " ")
            let queues = fields.count > 1 ? fields[1].split(separator: ":") : []
            guard queues.count == 2, let sent = Int(queues[0], radix: 16), let received = Int(queues[1], radix: 16) else { return nil }
            total += sent + received
        }
        return total
    }

    /// The address of a unix socket at `path`.
    static func unixAddress(_ path: String) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (k, byte) in path.utf8.enumerated() where k < raw.count - 1 { raw[k] = byte }
        }
        return addr
    }

    /// A port nobody listens on right now, unique within this test run.
    ///
    /// Handed out in sequence below the kernel's ephemeral range (10000–19999), each
    /// checked free: a port taken from the ephemeral range (bind to port 0, then close)
    /// could meanwhile go to another test running in parallel or to an outgoing
    /// connection, and HAProxy and Fulcrum both bind with SO_REUSEPORT, so two
    /// listeners would silently share it (seen once: side-by-side answers that
    /// disagreed for 40 % of the requests).
    static func freePort() -> Int {
        while true {
            let port = portSequence.withLock { next -> Int in
                defer { next = next == 19999 ? 10000 : next + 1 }
                return next
            }
            if isBindable(port) { return port }
        }
    }

    private static let portSequence = Mutex(10000 + Int(getpid()) % 5000)

    private static func isBindable(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// A free port below the kernel's ephemeral range, for a test that releases its
    /// listener and binds it again: in the ephemeral range, another test running in
    /// parallel could be handed the port meanwhile (by `freePort` or by a connect).
    static func portOutsideEphemeralRange() -> Int {
        while true {
            let port = Int.random(in: 20000..<30000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if rc == 0 { return port }
        }
    }

    static func waitForPort(_ port: Int) throws {
        for _ in 0..<100 {
            if (try? exchange(port: port, send: nil, readGreetingOnly: true)) != nil { return }
            usleep(50_000)
        }
        throw CancellationError()
    }

    /// Connects, optionally sends bytes and shuts down writing, reads until EOF (or just
    /// one chunk), with a 5 s bound.
    static func exchange(port: Int, send: String?, readGreetingOnly: Bool = false) throws -> String {
        guard let fd = connectLoopback(port) else { throw POSIXError(.ECONNREFUSED) }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let send {
            _ = send.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            shutdown(fd, Int32(SHUT_WR))
        }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n < 0 { throw POSIXError(.ETIMEDOUT) }
            if n == 0 { break }
            out += buf[0..<n]
            if readGreetingOnly { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The CPU time a process (all its threads) has used so far, user and system, in
    /// seconds: fields 14 and 15 of /proc/PID/stat, counted after the parenthesised
    /// command name, which may hold spaces.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The descriptor numbers a process holds open, from /proc.
    static func openDescriptors(_ pid: Int32) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).compactMap { Int($0) }
    }

    /// Resident memory of a process, from /proc.
    static func residentKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}

final class RunningProcesses {
    var processes: [Process] = []
    deinit { stopAll() }

    func stopAll() {
        defer { processes = [] }
        for p in processes where p.isRunning {
            p.terminate()
            for _ in 0..<40 where p.isRunning { usleep(50_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
        }
    }

    /// `stderr`: a file that receives the process's standard error (what Fulcrum logs).
    func start(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stderr: URL? = nil) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        p.standardOutput = FileHandle.nullDevice
        if let stderr {
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: stderr)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        processes.append(p)
    }

    /// Waits until something accepts connections on host:port.
    func waitForListener(_ port: Int, host: String = "127.0.0.1") throws {
        for _ in 0..<200 {
            if let fd = Loopback.connectLoopback(port, host: host) {
                close(fd)
                return
            }
            usleep(25_000)
        }
        throw POSIXError(.ECONNREFUSED)
    }
}
