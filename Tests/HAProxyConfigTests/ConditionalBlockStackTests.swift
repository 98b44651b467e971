import Testing
@testable import HAProxyConfig

@Suite struct ConditionalBlockStackTests {
    let here = SourceLocation(file: "t.cfg", line: 1)

    @Test func ifElifElseChoosesOneBranch() throws {
        var s = ConditionalBlockStack()
        s.openIf(condition: false, at: here)
        #expect(!s.isActive)
        try s.elif(condition: true)
        #expect(s.isActive)
        try s.elif(condition: true)
        #expect(!s.isActive, "only the first true branch is taken")
        try s.otherwise()
        #expect(!s.isActive)
        try s.endif()
        #expect(s.isActive && s.depth == 0)
    }

    @Test func nestedBlocksInDeadParentStayDead() throws {
        var s = ConditionalBlockStack()
        s.openIf(condition: false, at: here)
        s.openIf(condition: true, at: here)
        #expect(!s.isActive)
        try s.otherwise()
        #expect(!s.isActive)
        try s.endif()
        try s.otherwise()
        #expect(s.isActive)
    }

    @Test func misplacedDirectivesAreErrors() {
        var s = ConditionalBlockStack()
        #expect(throws: ConditionalBlockStack.Failure.endifWithoutIf) { try s.endif() }
        #expect(throws: ConditionalBlockStack.Failure.elseWithoutIf) { try s.otherwise() }
        #expect(throws: ConditionalBlockStack.Failure.elifWithoutIf) { try s.elif(condition: true) }
        s.openIf(condition: true, at: here)
        #expect(throws: Never.self) { try s.otherwise() }
        #expect(throws: ConditionalBlockStack.Failure.elseAfterElse) { try s.otherwise() }
        #expect(throws: ConditionalBlockStack.Failure.elifAfterElse) { try s.elif(condition: true) }
        #expect(s.openBlocks == [here])
    }
}
