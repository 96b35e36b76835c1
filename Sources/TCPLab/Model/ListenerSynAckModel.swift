/// The listener's request socket when the client keeps retransmitting its SYN (the synack-lost
/// lab): each repeated SYN draws an immediate SYN-ACK and restarts the request timer, so the
/// request outlives the plain tcp_synack_retries schedule.
///
/// net/ipv4/tcp_minisocks.c, tcp_check_req(): a retransmitted SYN → inet_rtx_syn_ack(), then
/// mod_timer_pending(now + reqsk_timeout(req)) with reqsk_timeout = min(TCP_TIMEOUT_INIT <<
/// num_timeout, rto_max). net/ipv4/inet_connection_sock.c, reqsk_timer_handler(): on expiry,
/// drop when num_timeout ≥ tcp_synack_retries, else resend, num_timeout += 1 and re-arm.
/// Holds for the 6.x kernels this project runs (checked on 6.18); the request-socket timer
/// dates from 4.4.
public struct ListenerSynAckSchedule: Sendable, Hashable {
    /// SYN-ACKs the request timer sent (offsets from the first SYN).
    public var timerRetransmissions: [Double]
    /// SYN-ACKs sent in answer to repeated SYNs.
    public var answers: [Double]
    /// When the request socket is dropped.
    public var giveUp: Double
    /// The timer lengths along the way to `giveUp` (for the tolerance).
    public var timeouts: [Double]
}

extension RetransmissionModel {
    /// `duplicateSyns`: offsets (from the first SYN) at which repeated SYNs reach the listener.
    public static func synAck(synackRetries: Int, duplicateSyns: [Double], maximumRTO: Double = defaultMaximumRTO) -> ListenerSynAckSchedule {
        func timeout(_ numTimeout: Int) -> Double { min(initialRTO * pow2(numTimeout), maximumRTO) }
        var numTimeout = 0
        var expiry = timeout(0)
        var armedAt = 0.0
        var pending = duplicateSyns.sorted()[...]
        var schedule = ListenerSynAckSchedule(timerRetransmissions: [], answers: [], giveUp: 0, timeouts: [])
        // Bounded: each round consumes a SYN or a timer expiry, and expiries end at synackRetries.
        for _ in 0..<(duplicateSyns.count + synackRetries + 2) {
            if let syn = pending.first, syn < expiry {
                pending.removeFirst()
                schedule.answers.append(syn)
                armedAt = syn
                expiry = syn + timeout(numTimeout)
                continue
            }
            schedule.timeouts.append(expiry - armedAt)
            if numTimeout >= synackRetries {
                schedule.giveUp = expiry
                return schedule
            }
            schedule.timerRetransmissions.append(expiry)
            numTimeout += 1
            armedAt = expiry
            expiry += timeout(numTimeout)
        }
        schedule.giveUp = expiry
        return schedule
    }
}
