/// The deterministic drop pattern `--seed` gives a `%P` fault: whether each of a connection's
/// first `length` occurrences is dropped. SplitMix64, so the pattern is the same on every
/// machine and Swift version (the standard library's generators promise neither).
public struct SeededPattern: Hashable, Sendable {
    public static let length = 15
    public let drops: [Bool]

    /// `salt` tells apart several `%P` faults of one plan, so they do not drop in lockstep.
    public init(seed: UInt64, salt: UInt64, probability: Double) {
        var state = seed &+ salt &* 0x9E37_79B9_7F4A_7C15
        let threshold = UInt64((probability * 1_000_000).rounded())
        drops = (0..<Self.length).map { _ in Self.next(&state) % 1_000_000 < threshold }
    }

    private static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
