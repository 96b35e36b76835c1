import TCPLabRules

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
///
/// A SYN's count is keyed differently (`Key.attempt`: the client's port and initial sequence
/// number). The first SYN creates its conntrack entry, which stays unconfirmed until the SYN
/// leaves the hook path (postrouting, or input's last step); dropping the SYN frees the entry,
/// and every retransmitted SYN makes a new one with a new id. On loopback the client's output
/// path confirmed it before prerouting saw the SYN, so this never showed; on a receiving host
/// or at the client's own output, `syn:1` would drop every SYN. A retransmitted SYN keeps its
/// port and ISN, a new connection on the same port gets a new ISN.
enum ConnectionStateSets {
    /// What a state set's elements are.
    enum Key {
        /// `ct id`: the connection, from its conntrack entry.
        case connection
        /// `tcp sport . tcp sequence`: one connection attempt, for counting its SYNs.
        case attempt

        var prefix: String { self == .connection ? "state_" : "attempt_" }
        /// 4 bytes of ct id; 2 (padded to 4) of port and 4 of sequence number.
        var length: UInt32 { self == .connection ? 4 : 8 }
        var load: [NFTExpression] {
            switch self {
            case .connection: [.ct(key: .id, destination: .r0)]
            case .attempt: [.payload(base: .transport, offset: 0, length: 2, destination: .r0),
                            .payload(base: .transport, offset: 4, length: 4, destination: .r1)]
            }
        }
    }

    /// A day: far beyond any lab's connection, and what nft 1.0.6 still reads back in `--dry-run`
    /// output (conntrack's 5-day established timeout, 432000000ms, it refuses as "value too large").
    static let timeoutMilliseconds: UInt64 = 86_400 * 1_000
    static let size: UInt32 = 1 << 20
    static func name(bit: Int, key: Key = .connection) -> String { "\(key.prefix)\(bit)" }

    static func bits(_ mask: UInt32) -> [Int] { (0..<32).filter { mask & (1 << UInt32($0)) != 0 } }

    /// `ct id @state_k` for each set bit of `value` under `mask`, `ct id != @state_k` for each
    /// clear one. Each with its own `ct id` load, as nft compiles the same text.
    static func test(_ mask: UInt32, equal value: UInt32, key: Key = .connection) -> [NFTExpression] {
        bits(mask).flatMap { bit in
            key.load + [.lookup(set: name(bit: bit, key: key), source: .r0, invert: value & (1 << UInt32(bit)) == 0)]
        }
    }

    /// `delete @state_k { ct id }` for the bits cleared, then `add @state_k { ct id }` for the bits set.
    static func write(clear: UInt32, set: UInt32, key: Key = .connection) -> [NFTExpression] {
        let writes: [(bit: Int, op: NFTExpression.DynsetOp)] = bits(clear & ~set).map { ($0, .delete) } + bits(set).map { ($0, .add) }
        return writes.flatMap { write -> [NFTExpression] in
            key.load + [.dynset(set: name(bit: write.bit, key: key), op: write.op, keySource: .r0, timeoutMilliseconds: 0)]
        }
    }

    /// One set per state bit the rules use, in bit order.
    static func declarations(for rules: [NFTRule]) -> [NFTSet] {
        var used: [Key: Set<Int>] = [:]
        for rule in rules {
            for expression in rule.expressions {
                switch expression {
                case .lookup(let set, _, _), .dynset(let set, _, _, _):
                    for key in [Key.connection, .attempt] where set.hasPrefix(key.prefix) {
                        if let bit = Int(set.dropFirst(key.prefix.count)) { used[key, default: []].insert(bit) }
                    }
                default:
                    continue
                }
            }
        }
        return [Key.connection, .attempt].flatMap { key in
            (used[key] ?? []).sorted().map {
                NFTSet(name: name(bit: $0, key: key), keyLength: key.length, dynamic: true, timeoutMilliseconds: timeoutMilliseconds, size: size)
            }
        }
    }
}
