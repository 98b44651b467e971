#if canImport(Glibc)
import Glibc
#endif

/// Message digests and HMACs (`sha1`, `sha2`, `digest`, `hmac`) from the system's
/// libcrypto, loaded at run time so that building needs no development package and
/// the algorithm names are OpenSSL's, as in HAProxy. The functions used keep no state
/// between calls, so every event loop may call them at once.
public struct MessageDigest: @unchecked Sendable {
    /// An `EVP_MD` of libcrypto: a static description, never freed.
    let algorithm: OpaquePointer
    public let name: String

    typealias ByName = @convention(c) (UnsafePointer<CChar>) -> OpaquePointer?
    typealias Digest = @convention(c) (UnsafeRawPointer?, Int, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt32>, OpaquePointer, OpaquePointer?) -> Int32
    typealias HMAC = @convention(c) (OpaquePointer, UnsafeRawPointer?, Int32, UnsafePointer<UInt8>?, Int, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt32>) -> UnsafeMutablePointer<UInt8>?

    struct Library: @unchecked Sendable {
        let byName: ByName
        let digest: Digest
        let hmac: HMAC
    }

    static let library: Library? = {
        for file in ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"] {
            guard let handle = dlopen(file, RTLD_NOW) else { continue }
            guard let byName = dlsym(handle, "EVP_get_digestbyname"), let digest = dlsym(handle, "EVP_Digest"),
                  let hmac = dlsym(handle, "HMAC") else { continue }
            return Library(byName: unsafeBitCast(byName, to: ByName.self), digest: unsafeBitCast(digest, to: Digest.self),
                           hmac: unsafeBitCast(hmac, to: HMAC.self))
        }
        return nil
    }()

    /// The digest OpenSSL knows by `name` (`sha256`, `SHA512-224`, `md5`, ...).
    public init(_ name: String, for converter: String) throws(ConfigError) {
        guard let library = Self.library else {
            throw ConfigError("converter '\(converter)' needs the system's OpenSSL library (libcrypto.so.3), which could not be loaded.",
                              hint: "install libssl3 (Debian, Ubuntu) or openssl-libs")
        }
        guard let algorithm = library.byName(name) else {
            throw ConfigError("converter '\(converter)' : unknown message digest '\(name)'.", hint: "name an OpenSSL digest such as sha256")
        }
        self.algorithm = algorithm
        self.name = name
    }

    /// The digest of `data`; nil if libcrypto fails.
    public func digest(_ data: [UInt8]) -> [UInt8]? {
        guard let library = Self.library else { return nil }
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { input in
            library.digest(input.baseAddress, input.count, &out, &length, algorithm, nil)
        }
        return ok == 1 ? Array(out.prefix(Int(length))) : nil
    }

    /// The HMAC of `data` under `key`; nil if libcrypto fails.
    public func hmac(_ data: [UInt8], key: [UInt8]) -> [UInt8]? {
        guard let library = Self.library else { return nil }
        var out = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            data.withUnsafeBufferPointer { input in
                library.hmac(algorithm, k.baseAddress, Int32(k.count), input.baseAddress, input.count, &out, &length)
            }
        }
        return result == nil ? nil : Array(out.prefix(Int(length)))
    }
}
