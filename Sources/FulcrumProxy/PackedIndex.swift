/// An optional server index or queue ticket in 8 bytes: `Int?` takes 9, so 16 wherever
/// another 8-byte field follows, in an object that lives as long as its connection.
/// `Int.min` stands for none; indexes and tickets count up from 0 and never reach it.
@propertyWrapper
struct PackedIndex {
    private var storage: Int

    init(wrappedValue: Int?) {
        storage = Self.pack(wrappedValue)
    }

    var wrappedValue: Int? {
        get { storage == .min ? nil : storage }
        set { storage = Self.pack(newValue) }
    }

    private static func pack(_ value: Int?) -> Int {
        guard let value else { return .min }
        precondition(value != .min, "Int.min stands for none")
        return value
    }
}
