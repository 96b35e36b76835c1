/// Which occurrences of a segment kind, per connection, a fault applies to.
public enum SegmentSelection: Hashable, Sendable, CustomStringConvertible {
    /// Every occurrence: `synack`.
    case all
    /// The first N, then the rest pass: `synack:2`.
    case first(Int)
    /// Only the K-th (1-based): `data@3`.
    case only(Int)
    /// Each occurrence independently with this probability in (0, 1]: `data%0.3`.
    case probability(Double)

    /// Counts and positions stay small: each one is a rule in the kernel and bits in `ct mark`.
    public static let maximumCount = 255

    public var description: String {
        switch self {
        case .all: ""
        case .first(let n): ":\(n)"
        case .only(let k): "@\(k)"
        case .probability(let p): "%\(p)"
        }
    }
}

/// A fault spec (--drop, --delay, --duplicate): it applies to the segments its selector names,
/// and reads the selector's kind and selection as its own.
public protocol SelectsSegments {
    var selector: SegmentSelector { get }
}

extension SelectsSegments {
    public var kind: SegmentKind { selector.kind }
    public var selection: SegmentSelection { selector.selection }
}

/// `SEG`, `SEG:N`, `SEG@K` or `SEG%P`: the part of every fault spec before `=`.
public struct SegmentSelector: Hashable, Sendable, CustomStringConvertible {
    public var kind: SegmentKind
    public var selection: SegmentSelection

    public init(kind: SegmentKind, selection: SegmentSelection = .all) {
        self.kind = kind
        self.selection = selection
    }

    public var description: String { kind.rawValue + selection.description }

    /// Parses the selector; `allowProbability` is false for delays and duplicates, which are
    /// only counted (the queue decides nothing at random).
    public init(parsing text: String, allowProbability: Bool = true) throws(FaultSpecError) {
        let trimmed = text.trimmingSpaces()
        guard let separator = trimmed.firstIndex(where: { ":@%".contains($0) }) else {
            self.init(kind: try Self.kind(named: trimmed, in: text), selection: .all)
            return
        }
        let name = String(trimmed[..<separator])
        let argument = String(trimmed[trimmed.index(after: separator)...])
        let kind = try Self.kind(named: name, in: text)
        switch trimmed[separator] {
        case ":":
            self.init(kind: kind, selection: .first(try Self.count(argument, what: "count N in \(name):N", in: text)))
        case "@":
            self.init(kind: kind, selection: .only(try Self.count(argument, what: "position K in \(name)@K", in: text)))
        default:
            guard allowProbability else {
                throw FaultSpecError("'\(text)': a probability (%P) is only for --drop; use \(name):N or \(name)@K")
            }
            self.init(kind: kind, selection: .probability(try Self.probability(argument, in: text)))
        }
    }

    private static func kind(named name: String, in text: String) throws(FaultSpecError) -> SegmentKind {
        if name.isEmpty {
            throw FaultSpecError("'\(text)': missing segment name; valid: \(SegmentKind.validNames)")
        }
        guard let kind = SegmentKind(name: name) else {
            throw FaultSpecError("'\(text)': unknown segment '\(name)'; valid: \(SegmentKind.validNames)")
        }
        return kind
    }

    private static func count(_ argument: String, what: String, in text: String) throws(FaultSpecError) -> Int {
        guard !argument.isEmpty, argument.allSatisfy(\.isASCIIDigit), let value = Int(argument) else {
            throw FaultSpecError("'\(text)': \(what) must be a whole number 1...\(SegmentSelection.maximumCount), not '\(argument)'")
        }
        guard (1...SegmentSelection.maximumCount).contains(value) else {
            throw FaultSpecError("'\(text)': \(what) must be 1...\(SegmentSelection.maximumCount), not \(value)")
        }
        return value
    }

    /// "0.3", ".3", "1" or "30%"; anything outside (0, 1] is refused with a hint.
    private static func probability(_ argument: String, in text: String) throws(FaultSpecError) -> Double {
        let isPercent = argument.hasSuffix("%")
        let number = isPercent ? String(argument.dropLast()) : argument
        guard !number.isEmpty, number.allSatisfy({ $0.isASCIIDigit || $0 == "." }),
              number.filter({ $0 == "." }).count <= 1, number != ".", let value = Double(number)
        else {
            throw FaultSpecError("'\(text)': probability P must be a decimal in (0, 1] like 0.3 (or 30%), not '\(argument)'")
        }
        let probability = isPercent ? value / 100 : value
        guard probability > 0, probability <= 1 else {
            let hint = !isPercent && value > 1 && value <= 100 ? "; write \(value / 100) or \(number)% for \(number) percent" : ""
            throw FaultSpecError("'\(text)': probability P must be in (0, 1], not \(argument)\(hint)")
        }
        return probability
    }
}
