import KeepalivedConfig

/// A VRRP advertisement (RFC 3768 version 2, RFC 5798 version 3) as it is on the wire,
/// without the IP header. Values are kept as received, so a decoded packet re-encodes
/// to the same bytes.
public struct VRRPAdvertisement: Hashable, Sendable {
    public static let ipProtocol: UInt8 = 112
    public static let typeAdvertisement: UInt8 = 1

    public var version: UInt8
    public var type: UInt8 = VRRPAdvertisement.typeAdvertisement
    public var virtualRouterID: UInt8
    public var priority: UInt8
    /// v2: auth type (0 none, 1 simple text password). v3: always 0 (reserved bits).
    public var authType: UInt8 = 0
    /// v2: whole seconds (8 bits). v3: centiseconds (12 bits).
    public var advertInterval: UInt16
    public var checksum: UInt16 = 0
    public var addresses: [IPAddress]
    /// v2 only: the 8 bytes after the addresses (the password for type 1, zeros otherwise).
    public var authData: [UInt8] = [UInt8](repeating: 0, count: 8)

    public init(version: UInt8, virtualRouterID: UInt8, priority: UInt8, advertInterval: UInt16, addresses: [IPAddress], authType: UInt8 = 0, authData: [UInt8] = [UInt8](repeating: 0, count: 8)) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.advertInterval = advertInterval
        self.addresses = addresses
        self.authType = authType
        self.authData = authData
    }

    /// The 8 bytes of a `auth_pass`: the password's first 8 bytes, zero padded.
    public static func passwordBytes(_ password: String) -> [UInt8] {
        let b = Array(password.utf8.prefix(8))
        return b + [UInt8](repeating: 0, count: 8 - b.count)
    }

    /// Advertisement interval in centiseconds, whichever version.
    public var advertIntervalCentiseconds: Int {
        version == 3 ? Int(advertInterval) : Int(advertInterval) * 100
    }

    /// Bytes on the wire with the checksum field as stored.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + addresses.count * 16 + 8)
        out.append(version << 4 | (type & 0x0f))
        out.append(virtualRouterID)
        out.append(priority)
        out.append(UInt8(truncatingIfNeeded: addresses.count))
        if version == 3 {
            out.append(UInt8((advertInterval >> 8) & 0x0f))
            out.append(UInt8(advertInterval & 0xff))
        } else {
            out.append(authType)
            out.append(UInt8(truncatingIfNeeded: advertInterval))
        }
        out.append(UInt8(checksum >> 8))
        out.append(UInt8(checksum & 0xff))
        for a in addresses { out += a.bytes }
        if version == 2 { out += authData.prefix(8) + [UInt8](repeating: 0, count: max(0, 8 - authData.count)) }
        return out
    }

    /// The checksum this packet must carry. VRRPv3 sums an IP pseudo-header first (as
    /// keepalived does by default for IPv4 too, and Wireshark expects).
    public func computedChecksum(source: IPAddress, destination: IPAddress) -> UInt16 {
        var copy = self
        copy.checksum = 0
        let body = copy.serialized()
        var c = InternetChecksum()
        if version == 3 {
            c.add(VRRPAdvertisement.pseudoHeader(source: source, destination: destination, length: body.count))
        }
        c.add(body)
        return c.value
    }

    static func pseudoHeader(source: IPAddress, destination: IPAddress, length: Int) -> [UInt8] {
        if source.isIPv4 {
            return source.bytes + destination.bytes + [0, ipProtocol, UInt8(length >> 8), UInt8(length & 0xff)]
        }
        return source.bytes + destination.bytes + [0, 0, UInt8(length >> 8), UInt8(length & 0xff), 0, 0, 0, ipProtocol]
    }

    /// Bytes to send: the checksum computed for these addresses.
    public func encoded(source: IPAddress, destination: IPAddress) -> [UInt8] {
        var copy = self
        copy.checksum = computedChecksum(source: source, destination: destination)
        return copy.serialized()
    }

    /// Structure only: enough bytes for the header, the addresses the count announces
    /// and (v2) the auth data, and nothing more. Checksum, VRID, auth and interval are
    /// the validator's business, since they depend on the receiving instance.
    public static func decode(_ bytes: ArraySlice<UInt8>, family ipv6: Bool) -> Result<VRRPAdvertisement, VRRPDropReason> {
        guard bytes.count >= 8 else { return .failure(.tooShort) }
        let b = Array(bytes)
        let version = b[0] >> 4
        guard version == 2 || version == 3 else { return .failure(.badVersion) }
        if version == 2 && ipv6 { return .failure(.badVersion) }
        let count = Int(b[3])
        let addressLength = ipv6 ? 16 : 4
        let expected = 8 + count * addressLength + (version == 2 ? 8 : 0)
        guard b.count >= expected else { return .failure(.tooShort) }
        guard b.count == expected else { return .failure(.tooLong) }
        var addresses: [IPAddress] = []
        for i in 0..<count {
            let start = 8 + i * addressLength
            addresses.append(IPAddress(bytes: Array(b[start..<start + addressLength]))!)
        }
        var ad = VRRPAdvertisement(
            version: version, virtualRouterID: b[1], priority: b[2],
            advertInterval: version == 3 ? UInt16(b[4] & 0x0f) << 8 | UInt16(b[5]) : UInt16(b[5]),
            addresses: addresses)
        ad.type = b[0] & 0x0f
        ad.checksum = UInt16(b[6]) << 8 | UInt16(b[7])
        if version == 2 {
            ad.authType = b[4]
            ad.authData = Array(b[(expected - 8)..<expected])
        } else {
            ad.authType = b[4] >> 4
        }
        return .success(ad)
    }
}
