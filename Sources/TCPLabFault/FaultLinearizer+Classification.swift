import TCPLabRules

/// What kind a segment is, decided in the kernel before any fault: the packet-class bits of
/// `meta mark` (emptiness, idleness, the teardown and window kinds) from conntrack's state.
extension FaultLinearizer {
    /// nft cannot subtract, so "no payload" is `meta length == IP header + TCP header`, one rule
    /// per data offset (at prerouting `meta length` is the whole IP packet for v4 and v6). IPv4
    /// with options and IPv6 with extension headers never count as empty.
    mutating func emptinessRules() {
        for ipv6 in [false, true] {
            for words in UInt8(5)...15 {
                let header: UInt32 = ipv6 ? 40 : 20
                var match = Match.nfproto(ipv6: ipv6)
                if !ipv6 { match = match + .ipv4HeaderLength(5) }
                match = match + .tcpDataOffset(words) + .metaLength(header + 4 * UInt32(words))
                rule(FaultPlan.emptinessChain, match.expressions + Action.setPacketClass(set: PacketClass.empty) + [.verdict(.return)])
            }
        }
    }

    /// A connection absent from the recent set for `keepaliveIdle` is idle; every segment then
    /// refreshes its entry, dropped or not (a lost segment still ended the silence on the wire).
    mutating func idleRules() {
        classify(.tcp + .ctIDAbsent(from: FaultPlan.recentSet), set: PacketClass.idle)
        rule(FaultPlan.faultChain, Action.refresh(set: FaultPlan.recentSet, timeoutMilliseconds: idleMilliseconds))
    }

    /// The first FIN, before any drop, fixes which direction closed first.
    mutating func finStateRules() {
        for reply in [false, true] {
            rule(
                FaultPlan.faultChain,
                (Match.tcpFlags(.fin, equal: .fin) + .connectionState(ConnectionState.fin1Seen, equal: 0) + .ctDirection(reply: reply)).expressions
                    + Action.setConnectionState(set: ConnectionState.fin1Seen | (reply ? ConnectionState.fin1Reply : 0))
            )
        }
    }

    mutating func classificationRules() {
        let fin1Bits = ConnectionState.fin1Seen | ConnectionState.fin1Reply
        let teardownBits = fin1Bits | ConnectionState.peerFinSeen
        let emptyPureACK = Match.pureACK + .packetClass(has: PacketClass.empty)
        func bit(_ kind: SegmentKind) -> UInt32 { PacketClass.bit(for: kind)! }
        func fin1(_ reply: Bool) -> UInt32 { reply ? ConnectionState.fin1Reply : 0 }

        if classified.contains(.handshakeAck) {
            classify(
                .pureACK + .packetClass(has: PacketClass.fromClient | PacketClass.empty)
                    + .connectionState(ConnectionState.handshakeDone, equal: 0),
                set: bit(.handshakeAck)
            )
        }
        for reply in [false, true] {
            let direction = Match.ctDirection(reply: reply)
            let finFlag = Match.tcpFlags(.fin, equal: .fin)
            if classified.contains(.fin) {
                classify(finFlag + direction + .connectionState(fin1Bits, equal: ConnectionState.fin1Seen | fin1(reply)), set: bit(.fin))
            }
            if classified.contains(.peerFin) {
                classify(
                    finFlag + direction + .connectionState(fin1Bits, equal: ConnectionState.fin1Seen | fin1(!reply)),
                    set: bit(.peerFin), alsoState: ConnectionState.peerFinSeen
                )
            }
            if classified.contains(.finAck) {
                classify(emptyPureACK + direction + .connectionState(teardownBits, equal: ConnectionState.fin1Seen | fin1(!reply)), set: bit(.finAck))
            }
            if classified.contains(.lastAck) {
                classify(
                    emptyPureACK + direction
                        + .connectionState(teardownBits, equal: ConnectionState.fin1Seen | ConnectionState.peerFinSeen | fin1(reply)),
                    set: bit(.lastAck)
                )
            }
        }
        if classified.contains(.keepalive) {
            // Idle and neither side's window is zero: a window probe or the window update that
            // ends a zero window also follows silence, but is not a keepalive.
            classify(
                .pureACK + .packetClass(has: PacketClass.empty | PacketClass.idle)
                    + .connectionState(ConnectionState.zeroWindowOriginal | ConnectionState.zeroWindowReply, equal: 0),
                set: bit(.keepalive)
            )
        }
        if classified.contains(.windowProbe) {
            for reply in [false, true] {
                // The sender's peer (the other direction) last advertised a zero window.
                let peerZero = reply ? ConnectionState.zeroWindowOriginal : ConnectionState.zeroWindowReply
                classify(emptyPureACK + .ctDirection(reply: reply) + .connectionState(peerZero, equal: peerZero), set: bit(.windowProbe))
            }
        }
        if classified.contains(.keepaliveAck) {
            let probeBits = ConnectionState.probePending | ConnectionState.probeReply
            for reply in [false, true] {
                // The probe came the other way and just refreshed the recent set, so not idle.
                classify(
                    .pureACK + .packetClass(PacketClass.empty | PacketClass.idle, equal: PacketClass.empty) + .ctDirection(reply: reply)
                        + .connectionState(probeBits, equal: ConnectionState.probePending | (reply ? 0 : ConnectionState.probeReply)),
                    set: bit(.keepaliveAck)
                )
            }
            // A pending probe is answered by the very next segment or not at all.
            rule(
                FaultPlan.faultChain,
                Match.connectionState(ConnectionState.probePending, equal: ConnectionState.probePending).expressions
                    + Action.setConnectionState(clear: probeBits, set: 0)
            )
        }
    }
}
