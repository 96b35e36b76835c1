/// Parses the durations people type on a command line: "300ms", "2s", "1.5s", "250us", "1m", "0".
/// A bare number is seconds. Shared by every executable so "2s" means the same everywhere.
public struct DurationParseError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension Duration {
    public init(parsing text: String) throws(DurationParseError) {
        let units: [(suffix: String, nanoseconds: Double)] = [
            ("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
        ]
        let trimmed = text.lowercased()
        var number = Substring(trimmed)
        var scale = 1e9
        // Longest suffix first so "ms" is not read as "s".
        for unit in units.sorted(by: { $0.suffix.count > $1.suffix.count }) where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            scale = unit.nanoseconds
            break
        }
        guard let value = Double(number), value.isFinite, !number.hasPrefix("+") else {
            throw DurationParseError(description: "not a duration: '\(text)' (use e.g. 300ms, 2s, 1.5s, 250us, 1m)")
        }
        guard value >= 0 else {
            throw DurationParseError(description: "duration must not be negative: '\(text)'")
        }
        self = .nanoseconds(Int64((value * scale).rounded()))
    }

    public var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    public var totalSeconds: Double { Double(totalNanoseconds) / 1e9 }
}
