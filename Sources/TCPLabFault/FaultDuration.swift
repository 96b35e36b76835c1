/// A non-negative span typed in a fault spec: "300ms", "2s", "1.5s", "250us", "1m", "0".
/// Stored in nanoseconds so delays and jitter add up without rounding. Not named `Duration`:
/// a module-level `Duration` would shadow Swift's for every file that imports TCPLabFault.
public struct FaultDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = FaultDuration(nanoseconds: 0)
    public static func milliseconds(_ value: UInt64) -> FaultDuration { FaultDuration(nanoseconds: value * 1_000_000) }
    public static func seconds(_ value: UInt64) -> FaultDuration { FaultDuration(nanoseconds: value * 1_000_000_000) }

    /// Parses a decimal number with a unit (TCPLabSchema's DurationSyntax); "0" alone needs none.
    /// Bare numbers are refused: in `synack=300` nobody can tell whether 300 ms or 300 s was meant.
    public init(parsing text: String) throws(FaultSpecError) {
        switch DurationSyntax.nanoseconds(text, bareNumberUnit: nil) {
        case .success(let nanoseconds):
            self.nanoseconds = nanoseconds
        case .failure(.negative):
            throw FaultSpecError("duration '\(text)' is negative; a delay must be 0 or more")
        case .failure(.missingUnit):
            throw FaultSpecError("duration '\(text)' needs a unit: ns, us, ms, s or m (e.g. 300ms, 1.5s)")
        case .failure(.malformed):
            throw FaultSpecError("duration '\(text)' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)")
        }
    }

    /// The shortest exact spelling: "300ms", "1.5s", "250us", "0".
    public var description: String {
        if nanoseconds == 0 { return "0" }
        for (suffix, scale) in [("s", UInt64(1_000_000_000)), ("ms", 1_000_000), ("us", 1_000)]
        where nanoseconds >= scale {
            let whole = nanoseconds / scale
            let rest = nanoseconds % scale
            if rest == 0 { return "\(whole)\(suffix)" }
            var digits = String(rest)
            digits = String(repeating: "0", count: String(scale).count - 1 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            // At most three decimals, else the next smaller unit: 1234567ns is "1234.567us".
            if digits.count <= 3 || suffix == "us" { return "\(whole).\(digits)\(suffix)" }
        }
        return "\(nanoseconds)ns"
    }

    public var duration: Duration { .nanoseconds(Int64(clamping: nanoseconds)) }

    public static func < (lhs: FaultDuration, rhs: FaultDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
