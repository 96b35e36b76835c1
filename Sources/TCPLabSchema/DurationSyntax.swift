/// The one duration syntax of every TCPLab command and fault spec: a decimal number and a unit
/// ("300ms", "1.5s", "250us", "1m", "2h"), read exactly in nanoseconds — no binary rounding, no
/// exponents or signs, nothing finer than a nanosecond. Callers decide what a bare number means:
/// seconds on a command line, an error in a fault spec (in `synack=300` nobody can tell).
public enum DurationSyntax {
    public enum Failure: Error, Equatable, Sendable {
        case negative
        /// A bare number where the caller requires a unit.
        case missingUnit
        case malformed
    }

    /// Units, longest suffix first so "ms" is never read as "m" + "s".
    static let units: [(suffix: String, nanoseconds: UInt64)] = [
        ("ms", 1_000_000), ("us", 1_000), ("µs", 1_000), ("ns", 1), ("s", 1_000_000_000), ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ]

    /// `bareNumberUnit`: nanoseconds per unit of a number written without one; nil refuses it
    /// (except "0", which means the same in every unit).
    public static func nanoseconds(_ text: String, bareNumberUnit: UInt64?) -> Result<UInt64, Failure> {
        let trimmed = Substring(text.lowercased()).drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
        let cleaned = String(trimmed)
        if cleaned.hasPrefix("-") { return .failure(.negative) }
        var number = Substring(cleaned)
        var scale: UInt64
        if let unit = units.first(where: { cleaned.hasSuffix($0.suffix) }) {
            number = number.dropLast(unit.suffix.count)
            scale = unit.nanoseconds
        } else if let bareNumberUnit {
            scale = bareNumberUnit
        } else if !cleaned.isEmpty, cleaned.allSatisfy({ $0 == "0" || $0 == "." }), cleaned.contains("0") {
            return .success(0)
        } else {
            return .failure(.missingUnit)
        }
        guard let value = fixedPoint(number, scale: scale) else { return .failure(.malformed) }
        return .success(value)
    }

    /// "123.45" × scale, exactly, refusing fractions finer than a nanosecond and overflow.
    static func fixedPoint(_ text: Substring, scale: UInt64) -> UInt64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        let isDigit: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit),
              parts.count == 1 || !fraction.isEmpty,
              let wholeValue = whole.isEmpty ? 0 : UInt64(whole)
        else { return nil }
        var (total, overflow) = wholeValue.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        var place = scale
        for digit in fraction {
            guard place % 10 == 0 else { return digit == "0" ? total : nil }
            place /= 10
            (total, overflow) = total.addingReportingOverflow(UInt64(digit.asciiValue! - 48) * place)
            guard !overflow else { return nil }
        }
        return total
    }
}
