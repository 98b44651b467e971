/// How an ACL compares samples with its patterns (`-m`), as HAProxy names the methods.
public enum MatchMethod: String, Hashable, Sendable, CaseIterable {
    case found, bool, int, ip, bin, len, str, sub, reg, beg, end, dir, dom
}
