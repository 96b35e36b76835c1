/// The listener's request socket when the client keeps retransmitting its SYN (the synack-lost
/// lab): each repeated SYN draws an immediate SYN-ACK and restarts the request timer, so the
/// request outlives the plain tcp_synack_retries schedule.
///
/// net/ipv4/tcp_minisocks.c, tcp_check_req(): a retransmitted SYN → inet_rtx_syn_ack(), then
/// mod_timer_pending(now + reqsk_timeout(req)) with reqsk_timeout = min(TCP_TIMEOUT_INIT <<
/// num_timeout, rto_max). net/ipv4/inet_connection_sock.c, reqsk_timer_handler(): on expiry,
/// drop when num_timeout ≥ tcp_synack_retries, else resend, num_timeout += 1 and re-arm.
/// A SYN that arrives when the request is already gone is a new connection attempt to the
/// listener (tcp_conn_request): a new request with a new ISN and a fresh timer.
/// Ties: the request timer is always armed after the client's SYN timer (the SYN that re-armed
/// it left the client first), and the timer wheel runs a bucket newest-first, so when both fall
/// due together the request timer fires first — seen on 6.18 at every tie of the defaults
/// profile (1, 7, 11, 19, 35 s and the expiry at 67 s). Holds for the 6.x kernels this project
/// runs (checked on 6.18); the request-socket timer dates from 4.4.
public struct ListenerSynAckSchedule: Sendable, Hashable {
    /// When each request socket was created (offsets from the first SYN; the first is 0).
    public var requests: [Double]
    /// SYN-ACKs the request timers sent.
    public var timerRetransmissions: [Double]
    /// SYN-ACKs sent in answer to repeated SYNs.
    public var answers: [Double]
    /// When the last request socket is dropped.
    public var giveUp: Double
    /// The timer lengths along the way to `giveUp` (for the tolerance).
    public var timeouts: [Double]

    /// Every SYN-ACK on the wire: one per request, one per answer, one per timer retransmission.
    public var synAckCount: Int { requests.count + answers.count + timerRetransmissions.count }
}

extension RetransmissionModel {
    /// `duplicateSyns`: offsets (from the first SYN) at which repeated SYNs reach the listener.
    public static func synAck(synackRetries: Int, duplicateSyns: [Double], maximumRTO: Double = defaultMaximumRTO) -> ListenerSynAckSchedule {
        func timeout(_ numTimeout: Int) -> Double { min(initialRTO * pow2(numTimeout), maximumRTO) }
        var pending = duplicateSyns.sorted()[...]
        var schedule = ListenerSynAckSchedule(requests: [], timerRetransmissions: [], answers: [], giveUp: 0, timeouts: [])
        var created: Double? = 0
        // Bounded: each request consumes at least its opening SYN, and each request's rounds
        // consume a SYN or a timer expiry, the expiries ending at synackRetries.
        while let start = created {
            schedule.requests.append(start)
            created = nil
            var numTimeout = 0
            var armedAt = start
            var expiry = start + timeout(0)
            for _ in 0..<(duplicateSyns.count + synackRetries + 2) {
                if let syn = pending.first, syn < expiry {
                    pending.removeFirst()
                    schedule.answers.append(syn)
                    armedAt = syn
                    expiry = syn + timeout(numTimeout)
                    continue
                }
                schedule.timeouts.append(expiry - armedAt)
                if numTimeout >= synackRetries { break }
                schedule.timerRetransmissions.append(expiry)
                numTimeout += 1
                armedAt = expiry
                expiry += timeout(numTimeout)
            }
            schedule.giveUp = expiry
            // The request is gone: the client's next SYN, if any, opens a new one.
            if let syn = pending.first {
                pending.removeFirst()
                created = syn
            }
        }
        return schedule
    }
}
