/// The outcome of one health check, in HAProxy's categories: the layer that answered
/// (4: TCP, 6: TLS, 7: application) and how. Its `reason` is the text HAProxy logs
/// after "reason:", so operators' log searches and alerts keep working.
public enum CheckStatus: String, Hashable, Sendable {
    case l4ok = "L4OK", l4timeout = "L4TOUT", l4connectionProblem = "L4CON"
    case l6ok = "L6OK", l6timeout = "L6TOUT", l6invalidResponse = "L6RSP"
    case l7ok = "L7OK", l7okConditional = "L7OKC", l7timeout = "L7TOUT", l7invalidResponse = "L7RSP", l7wrongStatus = "L7STS"
    case socketError = "SOCKERR"

    public var passed: Bool {
        switch self {
        case .l4ok, .l6ok, .l7ok, .l7okConditional: return true
        default: return false
        }
    }

    public var reason: String {
        switch self {
        case .l4ok: return "Layer4 check passed"
        case .l4timeout: return "Layer4 timeout"
        case .l4connectionProblem: return "Layer4 connection problem"
        case .l6ok: return "Layer6 check passed"
        case .l6timeout: return "Layer6 timeout"
        case .l6invalidResponse: return "Layer6 invalid response"
        case .l7ok: return "Layer7 check passed"
        case .l7okConditional: return "Layer7 check conditionally passed"
        case .l7timeout: return "Layer7 timeout"
        case .l7invalidResponse: return "Layer7 invalid response"
        case .l7wrongStatus: return "Layer7 wrong status"
        case .socketError: return "Socket error"
        }
    }
}
