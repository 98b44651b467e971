/// `mode`: what a proxy understands of the traffic it carries.
public enum ProxyMode: String, Hashable, Sendable {
    case tcp, http
}
