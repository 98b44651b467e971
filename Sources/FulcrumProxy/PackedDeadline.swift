import NIOCore

/// An optional moment in 8 bytes: `NIODeadline?` takes 9, so 16 wherever another
/// 8-byte field follows, and a connection keeps a dozen of them for as long as it is
/// open. Stored as the uptime in nanoseconds plus one, 0 meaning none: NIODeadline never
/// holds more than `Int64.max` nanoseconds, so every deadline (`.distantPast` and
/// `.distantFuture` included) reads back exactly as it was set.
@propertyWrapper
struct PackedDeadline {
    private var storage: UInt64

    init(wrappedValue: NIODeadline?) {
        storage = wrappedValue.map { $0.uptimeNanoseconds + 1 } ?? 0
    }

    var wrappedValue: NIODeadline? {
        get { storage == 0 ? nil : .uptimeNanoseconds(storage - 1) }
        set { storage = newValue.map { $0.uptimeNanoseconds + 1 } ?? 0 }
    }
}
