import TCPLabSchema

/// Parses the durations people type on a command line: "300ms", "2s", "1.5s", "250us", "1m", "0".
/// A bare number is seconds. Shared by every executable so "2s" means the same everywhere.
public struct DurationParseError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension Duration {
    public init(parsing text: String) throws(DurationParseError) {
        switch DurationSyntax.nanoseconds(text, bareNumberUnit: 1_000_000_000) {
        case .success(let nanoseconds):
            self = .nanoseconds(Int64(clamping: nanoseconds))
        case .failure(.negative):
            throw DurationParseError(description: "duration must not be negative: '\(text)'")
        case .failure:
            throw DurationParseError(description: "not a duration: '\(text)' (use e.g. 300ms, 2s, 1.5s, 250us, 1m)")
        }
    }

    public var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    public var totalSeconds: Double { Double(totalNanoseconds) / 1e9 }
}
