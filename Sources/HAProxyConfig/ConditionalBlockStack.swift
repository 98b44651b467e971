/// The `.if / .elif / .else / .endif` nesting as a pure state machine: each directive
/// is an input, the answer says whether following lines are live.
public struct ConditionalBlockStack: Sendable {
    struct Frame: Sendable {
        var parentActive: Bool
        var anyBranchTaken: Bool
        var active: Bool
        var sawElse: Bool
        var opened: SourceLocation
    }

    public enum Failure: Error, Hashable, Sendable {
        case elifWithoutIf, elseWithoutIf, endifWithoutIf, elifAfterElse, elseAfterElse

        public var message: String {
            switch self {
            case .elifWithoutIf: return "'.elif' found without a matching '.if'"
            case .elseWithoutIf: return "'.else' found without a matching '.if'"
            case .endifWithoutIf: return "'.endif' found without a matching '.if'"
            case .elifAfterElse: return "'.elif' cannot follow '.else' in the same block"
            case .elseAfterElse: return "only one '.else' is permitted per '.if' block"
            }
        }
    }

    private var frames: [Frame] = []

    public init() {}

    /// Whether ordinary lines are currently taken into account.
    public var isActive: Bool { frames.last?.active ?? true }
    public var depth: Int { frames.count }
    /// The `.if` lines still open, innermost last; reported when a file ends.
    public var openBlocks: [SourceLocation] { frames.map(\.opened) }

    /// `condition` is evaluated by the caller only when `needsCondition` says so,
    /// because a condition in a dead block must not raise errors.
    public var needsConditionForElif: Bool {
        guard let f = frames.last else { return false }
        return f.parentActive && !f.anyBranchTaken
    }

    public mutating func openIf(condition: Bool, at location: SourceLocation) {
        let parent = isActive
        let live = parent && condition
        frames.append(Frame(parentActive: parent, anyBranchTaken: live, active: live, sawElse: false, opened: location))
    }

    public mutating func elif(condition: Bool) throws(Failure) {
        guard var f = frames.popLast() else { throw .elifWithoutIf }
        defer { frames.append(f) }
        if f.sawElse { throw .elifAfterElse }
        let live = f.parentActive && !f.anyBranchTaken && condition
        f.active = live
        f.anyBranchTaken = f.anyBranchTaken || live
    }

    public mutating func otherwise() throws(Failure) {
        guard var f = frames.popLast() else { throw .elseWithoutIf }
        defer { frames.append(f) }
        if f.sawElse { throw .elseAfterElse }
        f.sawElse = true
        f.active = f.parentActive && !f.anyBranchTaken
        f.anyBranchTaken = true
    }

    public mutating func endif() throws(Failure) {
        guard frames.popLast() != nil else { throw .endifWithoutIf }
    }
}
