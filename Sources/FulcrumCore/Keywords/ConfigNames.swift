/// The characters HAProxy allows in object names (proxies, servers, ACLs).
enum ConfigNames {
    static func isValid(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", ":": return true
        default: return false
        }
    }
}
