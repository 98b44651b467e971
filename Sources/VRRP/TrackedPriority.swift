import KeepalivedConfig

/// The effective priority keepalived derives from an instance's base priority and its
/// tracked scripts, interfaces, processes and files, and whether they put it in FAULT.
public enum TrackedPriority {
    /// One tracked item's current contribution.
    public enum Item: Hashable, Sendable {
        /// A script, interface or process: up or down, with the weight the instance (or
        /// the item's definition) gives it; nil or 0 means "FAULT while down".
        case status(up: Bool, weight: TrackWeight?)
        /// A track file's number, multiplied by the weight.
        case file(value: Int, weight: TrackWeight)
    }

    /// Non-zero weights move the priority: a positive one is added while the item is up,
    /// a negative one while it is down. `reverse` swaps what counts as up (for a file, it
    /// negates the product). A weightless item that is down is a fault. The owner (255)
    /// is never moved; everyone else stays within 1...254.
    public static func evaluate(base: Int, items: [Item]) -> (priority: Int, fault: Bool) {
        var delta = 0
        var fault = false
        for item in items {
            switch item {
            case .status(let up, let weight):
                let effectiveUp = (weight?.reverse ?? false) ? !up : up
                let w = weight?.value ?? 0
                if w == 0 {
                    if !effectiveUp { fault = true }
                } else if w > 0 && effectiveUp {
                    delta += w
                } else if w < 0 && !effectiveUp {
                    delta += w
                }
            case .file(let value, let weight):
                if weight.value == 0 {
                    if value != 0 { fault = true }
                    continue
                }
                let product = value * weight.value * (weight.reverse ? -1 : 1)
                if product <= -254 { fault = true }
                delta += product
            }
        }
        if base == 255 { return (255, fault) }
        return (min(254, max(1, base + delta)), fault)
    }
}
