import Testing
@testable import FulcrumProxy

/// Indexes kept as a plain Int, `Int.min` for none: 0 and the other extremes are values.
@Suite struct PackedIndexTests {
    struct Holder {
        @PackedIndex var index: Int? = nil
    }

    @Test func everyIndexReadsBackAsSet() {
        var holder = Holder()
        #expect(holder.index == nil)
        for value in [0, 1, 41, -1, Int.max, Int.min + 1] {
            holder.index = value
            #expect(holder.index == value)
        }
        holder.index = nil
        #expect(holder.index == nil)
        #expect(Holder(index: 0).index == 0)
        #expect(MemoryLayout<Holder>.size == 8)
    }
}
