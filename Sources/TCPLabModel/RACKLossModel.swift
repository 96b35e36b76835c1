/// When a sender with SACK decides that a segment in the middle of a flight is lost: RACK
/// (RFC 8985, time-based loss detection), on by default since Linux 4.10 (net.ipv4.tcp_recovery
/// bit 0x1).
///
/// Rules (net/ipv4/tcp_recovery.c: tcp_rack_reo_wnd, tcp_rack_skb_timeout,
/// tcp_rack_detect_loss, tcp_rack_mark_lost), as they hold from 4.18 to 6.18:
/// - A SACK (or ACK) for a segment advances RACK's reference: the send time of the most
///   recently sent segment delivered, and that segment's RTT.
/// - An earlier-sent segment still unacknowledged is lost once it has been out for longer than
///   that RTT plus the reordering window: now − sent ≥ rack.rtt + reo_wnd. With the RTT measured
///   from the SACKed segment's own send time, this holds on the SACK's arrival as soon as the
///   hole was sent at least reo_wnd before the SACKed segment.
/// - reo_wnd = min(min_rtt/4 · steps, srtt) (steps = 1 until DSACKs show reordering). While no
///   reordering has been seen it is 0 once sacked_out ≥ tp->reordering (3, the classic
///   duplicate-ACK threshold TCP_FASTRETRANS_THRESH) or the sender is already in recovery.
/// - Otherwise the REO timer fires when the remaining time runs out, rounded up to jiffies plus
///   TCP_TIMEOUT_MIN (2 jiffies).
/// So on a path whose RTT is tiny against the gap between two sends, the hole is retransmitted
/// on the first duplicate ACK that carries a SACK block, not after three.
public enum RACKLossModel {
    /// TCP_FASTRETRANS_THRESH: the initial tp->reordering (net.ipv4.tcp_reordering default 3).
    public static let duplicateThreshold = 3

    /// tcp_rack_reo_wnd with no reordering seen yet.
    public static func reorderingWindow(minRTT: Double, srtt: Double, sackedOut: Int, reordering: Int = duplicateThreshold,
                                        inRecovery: Bool = false, steps: Int = 1) -> Double {
        if inRecovery || sackedOut >= reordering { return 0 }
        return min(minRTT / 4 * Double(steps), srtt)
    }

    /// How long after the SACK's arrival the hole is retransmitted: 0 when it is marked lost at
    /// once, else the REO timer (remaining time in jiffies, rounded up, + 2 jiffies).
    /// `sentBefore`: how much earlier the hole was sent than the segment the SACK covers.
    public static func retransmitDelay(sentBefore: Double, reorderingWindow: Double,
                                       tickSeconds: Double = KernelClock.tickSeconds) -> Double {
        let remaining = reorderingWindow - sentBefore
        guard remaining > 0 else { return 0 }
        return ((remaining / tickSeconds - 1e-9).rounded(.up) + 2) * tickSeconds
    }
}
