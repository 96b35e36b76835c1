import TCPLabNetlink

/// Where a table keeps its per-connection state (MarkBits' ConnectionState flags and
/// CTMarkLayout's counter fields): bit k of a connection's state is "its `ct id` is in the
/// table's set `state_k`". The sets belong to the table, so two runs on one port (two
/// faultproxies, or many proxies of one server in a namespace) never see each other's state,
/// and the user's own `ct mark` is left alone. Until issue 12 the state lived in `ct mark`
/// itself: every table read and wrote the same bits, and two `--drop synack:1` on one port lost
/// one SYN-ACK between them.
///
/// Why sets of ct ids and not one map `ct id : state`: the kernel can overwrite map data from
/// the packet path (dynset delete then add in one rule works on 6.18), but nft's syntax cannot
/// write a register computed from a map lookup back into the map, so `--dry-run` would no longer
/// be loadable with `nft -f`. Membership tests (`ct id @state_8`, `ct id != @state_8`) and
/// `add`/`delete @state_8 { ct id }` are plain nft, one lookup per bit a rule tests.
///
/// Limits: an element expires after `timeoutMilliseconds` (a connection silent that long loses
/// its state, as if new) and each set holds `size` connections (beyond it a bit cannot be set).
/// A conntrack entry that reuses a dead one's id within the timeout inherits its state.
enum ConnectionStateSets {
    /// A day: far beyond any lab's connection, and what nft 1.0.6 still reads back in `--dry-run`
    /// output (conntrack's 5-day established timeout, 432000000ms, it refuses as "value too large").
    static let timeoutMilliseconds: UInt64 = 86_400 * 1_000
    static let size: UInt32 = 1 << 20
    static let prefix = "state_"
    static func name(bit: Int) -> String { "\(prefix)\(bit)" }

    static func bits(_ mask: UInt32) -> [Int] { (0..<32).filter { mask & (1 << UInt32($0)) != 0 } }

    /// `ct id @state_k` for each set bit of `value` under `mask`, `ct id != @state_k` for each
    /// clear one. Each with its own `ct id` load, as nft compiles the same text.
    static func test(_ mask: UInt32, equal value: UInt32) -> [NFTExpression] {
        bits(mask).flatMap { bit in
            [.ct(key: .id, destination: .r0), .lookup(set: name(bit: bit), source: .r0, invert: value & (1 << UInt32(bit)) == 0)]
        }
    }

    /// `delete @state_k { ct id }` for the bits cleared, then `add @state_k { ct id }` for the bits set.
    static func write(clear: UInt32, set: UInt32) -> [NFTExpression] {
        let writes: [(bit: Int, op: NFTExpression.DynsetOp)] = bits(clear & ~set).map { ($0, .delete) } + bits(set).map { ($0, .add) }
        return writes.flatMap { write -> [NFTExpression] in
            [.ct(key: .id, destination: .r0), .dynset(set: name(bit: write.bit), op: write.op, keySource: .r0, timeoutMilliseconds: 0)]
        }
    }

    /// One set per state bit the rules use, in bit order.
    static func declarations(for rules: [NFTRule]) -> [NFTSet] {
        var used = Set<Int>()
        for rule in rules {
            for expression in rule.expressions {
                switch expression {
                case .lookup(let set, _, _), .dynset(let set, _, _, _):
                    if set.hasPrefix(prefix), let bit = Int(set.dropFirst(prefix.count)) { used.insert(bit) }
                default:
                    continue
                }
            }
        }
        return used.sorted().map {
            NFTSet(name: name(bit: $0), keyLength: 4, dynamic: true, timeoutMilliseconds: timeoutMilliseconds, size: size)
        }
    }
}
