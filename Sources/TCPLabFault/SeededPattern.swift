/// The deterministic drop pattern `--seed` gives a `%P` fault: whether each of a connection's
/// first `length` occurrences is dropped, drawn from `SplitMix64`.
public struct SeededPattern: Hashable, Sendable {
    public static let length = 15
    public let drops: [Bool]

    /// `salt` tells apart several `%P` faults of one plan, so they do not drop in lockstep.
    public init(seed: UInt64, salt: UInt64, probability: Double) {
        var generator = SplitMix64(seed: seed &+ salt &* SplitMix64.increment)
        let threshold = UInt64((probability * 1_000_000).rounded())
        drops = (0..<Self.length).map { _ in generator.next() % 1_000_000 < threshold }
    }
}
