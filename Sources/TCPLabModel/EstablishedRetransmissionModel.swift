/// Retransmission of data and FIN on a synchronized connection, and when the kernel gives up.
///
/// Rules (net/ipv4/tcp_timer.c, tcp_input.c; Documentation/networking/ip-sysctl.rst), as they
/// hold from Linux 4.19 (tcp_model_timeout, 5.1) to 6.18; the per-namespace RTO bounds need
/// 6.11 (tcp_rto_min_us) and 6.15 (tcp_rto_max_ms), older kernels use the constants.
public enum EstablishedRetransmissionModel {
    /// TCP_RTO_MIN, 200 ms: the base of the give-up limit for synchronized sockets. It stays the
    /// compiled-in constant even where tcp_rto_min_us changes the RTO floor (retransmits_timed_out).
    public static let giveUpBaseRTO = 0.2

    /// The RTO after a few RTT samples (tcp_rtt_estimator, __tcp_set_rto, tcp_bound_rto):
    /// srtt + rttvar, where rttvar never falls below the RTO floor; usecs_to_jiffies rounds up
    /// to a whole tick. On loopback srtt is microseconds, so this is the floor plus one tick.
    public static func rto(rtt: Double, rtoMin: Double, tickSeconds: Double = KernelClock.tickSeconds) -> Double {
        let microseconds = (rtt + rtoMin) * 1_000_000
        let tickMicroseconds = tickSeconds * 1_000_000
        // The epsilon keeps binary rounding (0.21 s = 210.00000000000003 ms) from adding a tick.
        return (microseconds / tickMicroseconds - 1e-6).rounded(.up) * tickSeconds
    }

    /// tcp_orphan_retries(): 0 means "8 while the peer seems alive" (icsk_rto < rto_max), so a
    /// closed socket's FIN is not retried forever.
    public static func orphanRetries(sysctl value: Int, alive: Bool = true) -> Int {
        value == 0 && alive ? 8 : value
    }

    /// The segment at the head of the write queue (data or FIN) is retransmitted when the timer
    /// fires; the timer waits rto, 2·rto, 4·rto, ... capped at `rtoMax` (tcp_retransmit_timer,
    /// inet_csk_rto_backoff).
    ///
    /// - Tail loss probe (`lossProbe`, tcp_schedule_loss_probe; on by default since 4.10 with
    ///   SACK, tcp_early_retrans=3): a lone segment is first re-sent after PTO = 2·srtt +
    ///   tcp_rto_min (capped at the RTO), which on loopback is the RTO itself; the probe does not
    ///   back off, and the RTO timer restarts from it.
    /// - Give-up (tcp_write_timeout, retransmits_timed_out): on each RTO expiry after the first,
    ///   the kernel compares the time since `retrans_stamp` — stamped by tcp_retransmit_skb at the
    ///   first RTO retransmission, not at the original transmission (measured on 6.18) — with the
    ///   user timeout if set, else tcp_model_timeout(boundary, TCP_RTO_MIN); `boundary` is
    ///   tcp_retries2 for an open socket and the orphan retries for one closed by close(). With a
    ///   user timeout the RTO is clamped so the timer fires when it runs out
    ///   (tcp_clamp_rto_to_user_timeout).
    public static func schedule(rto: Double, boundary: Int, rtoMax: Double, userTimeout: Double? = nil,
                                lossProbe: Bool = true) -> RetransmissionSchedule {
        let limit = userTimeout ?? RetransmissionModel.modelTimeout(boundary: boundary, initialRTO: giveUpBaseRTO, maximumRTO: rtoMax)
        var retransmissions: [Double] = []
        var timeouts: [Double] = []
        var now = 0.0
        if lossProbe {
            now = rto
            timeouts.append(rto)
            retransmissions.append(now)
        }
        var stamp: Double?
        var backoff = 0
        // Bounded: every round adds at least one tick, and the limit is finite.
        for _ in 0..<10_000 {
            var timeout = min(rto * RetransmissionModel.pow2(backoff), max(rtoMax, rto))
            if let userTimeout, let stamp { timeout = max(min(timeout, stamp + userTimeout - now), KernelClock.tickSeconds) }
            timeouts.append(timeout)
            now += timeout
            if let stamp, now - stamp >= limit - 1e-9 {
                return RetransmissionSchedule(retransmissions: retransmissions, giveUp: now, timeouts: timeouts)
            }
            retransmissions.append(now)
            if stamp == nil { stamp = now }
            backoff += 1
        }
        return RetransmissionSchedule(retransmissions: retransmissions, giveUp: now, timeouts: timeouts)
    }

    /// An orphaned socket's FIN (fin-lost after close()).
    public static func orphanedFin(rto: Double, parameters: KernelParameters) -> RetransmissionSchedule {
        schedule(rto: rto, boundary: orphanRetries(sysctl: parameters.orphanRetries), rtoMax: parameters.rtoMax)
    }

    /// Data (or the FIN of a socket only shut down) on an open socket: tcp_retries2, or the user timeout.
    public static func data(rto: Double, parameters: KernelParameters, userTimeout: Double? = nil) -> RetransmissionSchedule {
        schedule(rto: rto, boundary: parameters.retries2, rtoMax: parameters.rtoMax, userTimeout: userTimeout)
    }
}

/// How long the closing states last (include/net/tcp.h, net/ipv4/tcp.c: tcp_close,
/// tcp_fin_time; net/ipv4/tcp_minisocks.c). Holds for Linux 2.6 to 6.18.
public enum CloseTimersModel {
    /// TCP_TIMEWAIT_LEN: 60 s, compiled in. The notes' "2 MSL" is RFC 793's rule; Linux does not
    /// compute it from any MSL and has no sysctl for it.
    public static let timeWaitLength = 60.0

    /// An orphaned FIN_WAIT2 socket lives tcp_fin_timeout (or TCP_LINGER2) from the moment it is
    /// both orphaned and in FIN_WAIT2; longer than TIME_WAIT, the part beyond 60 s runs on the
    /// keepalive timer first. A socket merely shut down waits in FIN_WAIT2 without a limit.
    public static func finWait2Length(finTimeout: Int, linger2: Int? = nil) -> Double {
        Double(linger2 ?? finTimeout)
    }

    /// tcp_tw_reuse_delay (6.13+, ms): a TIME_WAIT socket may be reused for an outgoing
    /// connection this long after its last timestamp (before 6.13: 1 s).
    public static func twReuseDelay(milliseconds: Int?) -> Double { Double(milliseconds ?? 1000) / 1000 }
}

/// When each event of a schedule is due given the transmissions actually seen.
public struct ChainedDueTimes: Sendable, Hashable {
    /// Offsets (from the first transmission) at which each retransmission is due; nil where the
    /// transmission that arms its timer was not seen.
    public var retransmissions: [Double?]
    /// When the kernel should give up; nil when the event that arms it was not seen.
    public var giveUp: Double?
}

extension EstablishedRetransmissionModel {
    /// The schedule anchored on what was observed. The kernel arms each retransmission timer when
    /// the previous transmission goes out (tcp_retransmit_timer → inet_csk_reset_xmit_timer; after
    /// a loss probe, tcp_send_loss_probe → tcp_rearm_rto), so the n-th retransmission is due
    /// `timeouts[n]` after the (n−1)-th transmission *as it happened*, and a timer that fired late
    /// moves everything after it — the way packetdrill judges each event from the one before. The
    /// give-up is due one timer after the last retransmission; with TCP_USER_TIMEOUT, the user
    /// timeout after retrans_stamp (the first RTO retransmission), because the last timer is
    /// clamped to it (tcp_clamp_rto_to_user_timeout).
    ///
    /// - Parameter transmissions: offsets of the original and every retransmission seen, from the original (so `transmissions[0] == 0`).
    public static func due(_ schedule: RetransmissionSchedule, transmissions: [Double], lossProbe: Bool = true,
                           userTimeout: Double? = nil) -> ChainedDueTimes {
        let retransmissions = schedule.retransmissions.indices.map { index -> Double? in
            index < transmissions.count ? transmissions[index] + schedule.timeouts[index] : nil
        }
        let giveUp: Double?
        if let userTimeout {
            let stamp = lossProbe ? 2 : 1
            giveUp = stamp < transmissions.count ? transmissions[stamp] + userTimeout : nil
        } else {
            let last = schedule.retransmissions.count
            giveUp = last < transmissions.count && last < schedule.timeouts.count ? transmissions[last] + schedule.timeouts[last] : nil
        }
        return ChainedDueTimes(retransmissions: retransmissions, giveUp: giveUp)
    }
}
