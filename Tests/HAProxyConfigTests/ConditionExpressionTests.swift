import Testing
@testable import HAProxyConfig

@Suite struct ConditionExpressionTests {
    let context = ConditionContext(environment: { ["WITH_SSL": "yes", "A": "1", "EMPTY": ""][$0] }, features: ["THREAD", "EPOLL"], version: "2.6")

    func eval(_ s: String) -> Bool? {
        if case .success(let v) = ConditionExpression.evaluate(s, in: context) { return v }
        return nil
    }

    @Test func integersAndEmpty() {
        #expect(eval("") == false)
        #expect(eval("0") == false)
        #expect(eval("1") == true)
        #expect(eval("42") == true)
        #expect(eval("000") == false)
        #expect(eval("-1") == true)
    }

    @Test func predicates() {
        #expect(eval("defined(A)") == true)
        #expect(eval("defined(EMPTY)") == true)
        #expect(eval("defined(NOPE)") == false)
        #expect(eval("defined()") == false)
        #expect(eval("feature(THREAD)") == true)
        #expect(eval("feature(OPENSSL)") == false)
        #expect(eval("streq(yes,yes)") == true)
        #expect(eval("streq(\"a b\",'a b')") == true)
        #expect(eval("strneq(yes,no)") == true)
        #expect(eval("version_atleast(2.4-dev19)") == true)
        #expect(eval("version_atleast(2.6)") == true)
        #expect(eval("version_atleast(2.6.1)") == false)
        #expect(eval("version_before(2.7)") == true)
        #expect(eval("version_before(2.6)") == false)
    }

    @Test func operatorsAndPrecedence() {
        #expect(eval("!0") == true)
        #expect(eval("!!1") == true)
        #expect(eval("1 && 0") == false)
        #expect(eval("0 || 1") == true)
        // AND binds tighter than OR.
        #expect(eval("1 || 0 && 0") == true)
        #expect(eval("(1 || 0) && 0") == false)
        #expect(eval("feature(THREAD) && (streq(yes,no) || defined(A))") == true)
        #expect(eval("!feature(OPENSSL)&&defined(A)") == true)
    }

    @Test func errors() {
        #expect(eval("bogus(1)") == nil)
        #expect(eval("defined(A") == nil)
        #expect(eval("(1") == nil)
        #expect(eval("1 &&") == nil)
        #expect(eval("streq(a)") == nil)
        #expect(eval("yes") == nil)
        #expect(eval("1 1") == nil)
    }

    @Test func deepNestingIsRefusedNotACrash() {
        #expect(eval(String(repeating: "(", count: 20_000) + "1" + String(repeating: ")", count: 20_000)) == nil)
        #expect(eval(String(repeating: "!", count: 200_000) + "1") == nil)
        #expect(eval(String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100)) == true)
    }
}
