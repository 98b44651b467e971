import VRRP

/// Per-instance counters for the SIGUSR2 statistics dump; every dropped packet is in
/// exactly one of them.
struct InstanceCounters {
    var advertsReceived = 0
    var advertsSent = 0
    var becameMaster = 0
    var releasedMaster = 0
    var priorityZeroReceived = 0
    var priorityZeroSent = 0
    var otherVirtualRouter = 0
    var malformedIP = 0
    var sendErrors = 0
    var drops: [VRRPDropReason: Int] = [:]

    var totalDrops: Int { drops.values.reduce(0, +) + malformedIP }
}
