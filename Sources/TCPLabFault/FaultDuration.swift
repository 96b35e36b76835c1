/// A non-negative span typed in a fault spec: "300ms", "2s", "1.5s", "250us", "1m", "0".
/// Stored in nanoseconds so delays and jitter add up without rounding. Not named `Duration`:
/// a module-level `Duration` would shadow Swift's for every file that imports TCPLabFault.
public struct FaultDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let zero = FaultDuration(nanoseconds: 0)
    public static func milliseconds(_ value: UInt64) -> FaultDuration { FaultDuration(nanoseconds: value * 1_000_000) }
    public static func seconds(_ value: UInt64) -> FaultDuration { FaultDuration(nanoseconds: value * 1_000_000_000) }

    /// Units a spec may use, longest suffix first so "ms" is never read as "m" + "s".
    private static let units: [(suffix: String, nanoseconds: UInt64)] = [
        ("ms", 1_000_000), ("us", 1_000), ("µs", 1_000), ("ns", 1), ("s", 1_000_000_000), ("m", 60_000_000_000),
    ]

    /// Parses a decimal number with a unit; "0" alone needs none. Exponents, signs and bare
    /// numbers are refused: in `synack=300` nobody can tell whether 300 ms or 300 s was meant.
    public init(parsing text: String) throws(FaultSpecError) {
        let trimmed = text.trimmingSpaces()
        if trimmed.hasPrefix("-") {
            throw FaultSpecError("duration '\(text)' is negative; a delay must be 0 or more")
        }
        guard let unit = Self.units.first(where: { trimmed.hasSuffix($0.suffix) }) else {
            if trimmed.allSatisfy({ $0 == "0" || $0 == "." }), trimmed.contains("0") {
                self.nanoseconds = 0
                return
            }
            throw FaultSpecError("duration '\(text)' needs a unit: ns, us, ms, s or m (e.g. 300ms, 1.5s)")
        }
        let number = trimmed.dropLast(unit.suffix.count)
        guard let value = Self.fixedPoint(number, scale: unit.nanoseconds) else {
            throw FaultSpecError("duration '\(text)' is not a number with a unit (e.g. 300ms, 1.5s, 250us, 1m)")
        }
        self.nanoseconds = value
    }

    /// "123.45" × scale, exactly, refusing fractions finer than a nanosecond and overflow.
    private static func fixedPoint(_ text: Substring, scale: UInt64) -> UInt64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty),
              whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
              parts.count == 1 || !fraction.isEmpty,
              let wholeValue = whole.isEmpty ? 0 : UInt64(whole)
        else { return nil }
        var (total, overflow) = wholeValue.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        var place = scale
        for digit in fraction {
            guard place % 10 == 0 else { return digit == "0" ? total : nil }
            place /= 10
            let addend = UInt64(digit.asciiValue! - 48) * place
            (total, overflow) = total.addingReportingOverflow(addend)
            guard !overflow else { return nil }
        }
        return total
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
