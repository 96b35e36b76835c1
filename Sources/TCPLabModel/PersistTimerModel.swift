/// The zero-window probe (persist) timer of a sender whose peer advertises a zero window, and
/// which of its probes the receiver answers.
///
/// Rules (include/net/tcp.h tcp_probe0_base / tcp_probe0_when / tcp_check_probe_timer;
/// net/ipv4/tcp_output.c tcp_send_probe0, tcp_write_wakeup, tcp_xmit_probe_skb;
/// net/ipv4/tcp_input.c tcp_ack_probe; net/ipv4/tcp_timer.c tcp_probe_timer), as they hold
/// from Linux 5.8 (backoff shift capped) to 6.18; the per-socket ceiling is tcp_rto_max_ms
/// from 6.15 (TCP_RTO_MAX = 120 s before).
///
/// - When the ACK that closes the window leaves nothing in flight while data waits, the probe
///   timer is armed for `base` = tcp_probe0_base = max(icsk_rto, TCP_RTO_MIN); TCP_RTO_MIN is
///   the compiled-in 200 ms even where tcp_rto_min_us lowers the RTO floor.
/// - Each expiry sends one probe: a pure ACK with seq = snd_una − 1, which the receiver must
///   answer with an ACK carrying its current window. tcp_send_probe0 then raises icsk_backoff,
///   but only while it is below tcp_retries2, and re-arms the timer for
///   tcp_probe0_when = min(base << backoff, rto_max); an answer (tcp_ack_probe) re-arms it for
///   the same interval from the answer's arrival, microseconds later on loopback.
/// - So the k-th probe (k = 1, 2, ...) leaves base·(1 + 2 + ... ) after the window closed: the
///   interval before probe k+1 is min(base << min(k, tcp_retries2), rto_max).
/// - The probes do not give up while the receiver answers: every ACK resets icsk_probes_out,
///   which tcp_probe_timer compares with tcp_retries2 (RFC 1122 4.2.2.17: stay open).
public enum PersistTimerModel {
    /// TCP_RTO_MIN, the floor of the probe interval (include/net/tcp.h, HZ/5).
    public static let probeFloor = 0.2

    /// tcp_probe0_base: max(icsk_rto, TCP_RTO_MIN).
    public static func base(rto: Double) -> Double { max(rto, probeFloor) }

    /// ilog2(TCP_RTO_MAX / TCP_RTO_MIN) + 1 = 10: tcp_probe0_when never shifts further (5.8+).
    static let maximumShift = 10

    /// The interval the timer waits after probe `sent` (0: from the window closing to probe 1).
    public static func interval(afterProbe sent: Int, base: Double, retries2: Int, rtoMax: Double) -> Double {
        let backoff = min(sent, max(retries2, 0), maximumShift)
        return min(base * RetransmissionModel.pow2(backoff), rtoMax)
    }

    /// Offsets of the first `count` probes from the moment the window closed.
    public static func probes(count: Int, base: Double, retries2: Int, rtoMax: Double) -> [Double] {
        var offsets: [Double] = []
        var now = 0.0
        for sent in 0..<max(count, 0) {
            now += interval(afterProbe: sent, base: base, retries2: retries2, rtoMax: rtoMax)
            offsets.append(now)
        }
        return offsets
    }

    /// The timer lengths leading to each probe (for the timer-wheel tolerance).
    public static func timers(count: Int, base: Double, retries2: Int, rtoMax: Double) -> [Double] {
        (0..<max(count, 0)).map { interval(afterProbe: $0, base: base, retries2: retries2, rtoMax: rtoMax) }
    }

    /// Whether the receiver answers a probe sent at `time` when it last answered one at
    /// `lastAnswer` (seconds, any origin; nil: it has not answered an out-of-window segment yet).
    ///
    /// A probe repeats a byte already acknowledged, so the receiver treats it as an
    /// out-of-window segment (tcp_validate_incoming: tcp_sequence fails) and answers it with a
    /// duplicate ACK only if tcp_oow_rate_limited allows: one such ACK per
    /// tcp_invalid_ratelimit (default 500 ms, per namespace); the others are only counted in
    /// TCPACKSkippedSeq. The limit compares jiffies, so an interval within `tick` of it is
    /// undecided (nil).
    public static func answers(at time: Double, lastAnswer: Double?, invalidRateLimit: Double,
                               tick: Double = KernelClock.tickSeconds) -> Bool? {
        guard let lastAnswer else { return true }
        let elapsed = time - lastAnswer
        if abs(elapsed - invalidRateLimit) <= tick { return nil }
        return elapsed >= invalidRateLimit
    }

    /// `answers` for a series of probes; an undecided one takes `observed`'s outcome when given
    /// (else it counts as answered), so the rest of the series follows what really happened.
    public static func answered(probeTimes: [Double], invalidRateLimit: Double, observed: [Bool]? = nil,
                                tick: Double = KernelClock.tickSeconds) -> [Bool?] {
        var lastAnswer: Double?
        var result: [Bool?] = []
        for (index, time) in probeTimes.enumerated() {
            let prediction = answers(at: time, lastAnswer: lastAnswer, invalidRateLimit: invalidRateLimit, tick: tick)
            result.append(prediction)
            let happened = prediction ?? (observed.flatMap { index < $0.count ? $0[index] : nil } ?? true)
            if happened { lastAnswer = time }
        }
        return result
    }
}
