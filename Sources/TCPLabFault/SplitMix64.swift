/// SplitMix64 (Steele, Lea and Flood; the generator of java.util.SplittableRandom): small, fast
/// and the same on every machine and Swift version (the standard library's generators promise
/// neither), so `--seed` repeats a run's drop pattern and delays exactly.
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable {
    public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= Self.increment
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
