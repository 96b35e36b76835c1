/// A run of connection-state bits holding one fault's per-connection count (0...maximum,
/// saturating). The bits live in the table's own sets (ConnectionStateSets), not in `ct mark`.
/// Only CTMarkLayout makes one (the memberwise init is internal): it hands out bits no other field has.
public struct CounterField: Hashable, Sendable, CustomStringConvertible {
    public var shift: Int
    public var width: Int
    /// The largest value the field holds; a segment that finds it there is past the fault.
    public var maximum: Int

    /// The field's bits in place.
    public var mask: UInt32 { ((1 << UInt32(width)) - 1) << UInt32(shift) }
    public func value(_ count: Int) -> UInt32 { UInt32(count) << UInt32(shift) }

    public var description: String {
        "state bits \(shift)-\(shift + width - 1) (mask 0x\(String(mask, radix: 16)), 0...\(maximum))"
    }
}

/// Which fault counts in which field, for `--dry-run` and for reading the `state_N` sets (`nft list set`).
public struct CounterAllocation: Hashable, Sendable, CustomStringConvertible {
    /// The option that asked for it, "--drop synack:2".
    public var owner: String
    public var field: CounterField
    public var description: String { "\(owner): \(field)" }
}

/// Hands out counter fields from the free state bits (8-31), first come first served.
public struct CTMarkLayout: Sendable {
    public private(set) var nextBit = ConnectionState.firstCounterBit
    public private(set) var allocations: [CounterAllocation] = []
    public static let totalBits = 32

    public init() {}

    /// A field that counts 0...maximum, or a one-line error naming who wanted it.
    public mutating func allocate(maximum: Int, for owner: String) throws(FaultSpecError) -> CounterField {
        let width = max(1, Int.bitWidth - (maximum).leadingZeroBitCount)
        guard nextBit + width <= Self.totalBits else {
            let free = Self.totalBits - nextBit
            throw FaultSpecError(
                "\(owner) needs \(width) bits of connection state to count to \(maximum) but only \(free) of \(Self.totalBits - ConnectionState.firstCounterBit) are left; use fewer or smaller counts"
            )
        }
        let field = CounterField(shift: nextBit, width: width, maximum: maximum)
        nextBit += width
        allocations.append(CounterAllocation(owner: owner, field: field))
        return field
    }
}
