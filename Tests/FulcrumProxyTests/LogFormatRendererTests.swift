import FulcrumCore
import NIOCore
import Testing
@testable import FulcrumProxy

/// The number and address writers every log line uses, written in place.
struct LogFormatRendererTests {
    func number(_ value: Int, hex: Bool = false, width: Int = 0, zeroPad: Bool = false) -> String {
        var out: [UInt8] = Array("x".utf8)
        LogFormatRenderer.number(value, hex: hex, width: width, zeroPadDecimal: zeroPad, into: &out)
        return String(decoding: out.dropFirst(), as: UTF8.self)
    }

    @Test func numbersInDecimalAndHexadecimal() {
        #expect(number(0) == "0")
        #expect(number(9) == "9")
        #expect(number(10) == "10")
        #expect(number(1_234_567) == "1234567")
        #expect(number(Int.max) == String(Int.max))
        #expect(number(-5) == "0", "negative values print as 0 (callers print -1 themselves)")
        #expect(number(7, width: 3) == "7", "decimal ignores the width unless zero-padded")
        #expect(number(7, width: 3, zeroPad: true) == "007")
        #expect(number(1234, width: 3, zeroPad: true) == "1234")
        #expect(number(255, hex: true, width: 4) == "00FF")
        #expect(number(0x7F00_0001, hex: true, width: 8) == "7F000001")
        #expect(number(0x1_0000_0000, hex: true, width: 8) == "100000000")
    }

    func address(_ text: String, flags: LogFormatFlags = []) throws -> String {
        var out: [UInt8] = []
        let address = try SocketAddress(ipAddress: text, port: 80)
        LogFormatRenderer.address(address, flags, missing: Array("-".utf8), into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func addressesAsText() throws {
        for ip in ["0.0.0.0", "10.1.2.3", "127.0.0.1", "255.255.255.255", "192.168.100.9"] {
            #expect(try address(ip) == ip)
        }
        #expect(try address("10.1.2.3", flags: .quote) == "\"10.1.2.3\"")
        #expect(try address("10.1.2.3", flags: .hex) == "0A010203")
        #expect(try address("::1") == "::1")
        #expect(try address("::1", flags: .hex) == "00000000000000000000000000000001")
        var out: [UInt8] = []
        LogFormatRenderer.address(nil, [], missing: Array("-".utf8), into: &out)
        #expect(out == Array("-".utf8))
    }
}
