/// The listener's request timer judged on what was observed (the synack-lost lab), the way
/// packetdrill judges each event from the one that armed its timer.
///
/// Cumulative offsets cannot judge this timer: the client's SYN timer and the request timer sit
/// on the same timer-wheel levels, and one 32 s timer on level 3 fires up to 2.048 s late, which
/// moves every later event (with `--profile defaults` the first request expired with the
/// client's 10th SYN at +69.7 s, not +67 s, so the second request's SYN-ACKs came at +70.7, 72.7,
/// 76.9, 85.1, 101.2 s and it was dropped at +135.3 s: a nearest-in-time match against the model's
/// +70 s paired an answer SYN-ACK with "timer 7" and looked 0.97 s early). So each SYN-ACK is
/// classified from the segments around it, and the timer that sent it is the kernel's:
///
/// - a SYN-ACK with a new sequence number opens a request (tcp_conn_request; num_timeout 0);
/// - one that follows a client SYN answers it (tcp_check_req → inet_rtx_syn_ack) and re-arms the
///   request timer for reqsk_timeout = min(TCP_TIMEOUT_INIT << num_timeout, rto_max)
///   (mod_timer_pending), num_timeout unchanged;
/// - any other comes from the request timer (reqsk_timer_handler): it was due
///   min(1 s << num_timeout, rto_max) after the SYN-ACK before it, and num_timeout grows by one;
/// - a request is dropped when its timer expires with num_timeout ≥ tcp_synack_retries, due
///   min(1 s << num_timeout, rto_max) after its last SYN-ACK.
public enum ListenerSynAckReplay {
    /// A client SYN reaching the listener, or a SYN-ACK leaving it, as the timeline saw it.
    public struct Segment: Sendable, Hashable {
        public var time: Double
        public var isSynAck: Bool
        /// The SYN-ACK's raw sequence number (its ISN): a new one is a new request. 0 for a SYN.
        public var sequence: UInt32

        /// A client SYN: only its time counts (the replay keys requests on the SYN-ACK's ISN).
        public static func syn(at time: Double) -> Segment { Segment(time: time, isSynAck: false, sequence: 0) }
        public static func synAck(at time: Double, sequence: UInt32) -> Segment { Segment(time: time, isSynAck: true, sequence: sequence) }
    }

    /// One request-timer event: due `timer` after `anchor` (the SYN-ACK that armed it).
    public struct TimerEvent: Sendable, Hashable {
        /// 0-based request, and 1-based timer expiry within it.
        public var request: Int
        public var expiry: Int
        public var anchor: Double
        public var timer: Double
        /// The SYN-ACK the timer sent (nil for a give-up, whose time the caller observes).
        public var observed: Double?
    }

    public struct Replay: Sendable, Hashable {
        /// Every SYN-ACK the request timers sent.
        public var timerSynAcks: [TimerEvent]
        /// Timer SYN-ACKs per request (tcp_synack_retries for every request that ran out).
        public var timerSynAcksPerRequest: [Int]
        /// SYN-ACKs that answered a repeated SYN.
        public var answers: Int
        /// The last request's drop, due one timer after its last SYN-ACK.
        public var giveUp: TimerEvent?
    }

    public static func replay(_ segments: [Segment], maximumRTO: Double = RetransmissionModel.defaultMaximumRTO) -> Replay {
        func timeout(_ numTimeout: Int) -> Double { min(RetransmissionModel.initialRTO * RetransmissionModel.pow2(numTimeout), maximumRTO) }
        var replay = Replay(timerSynAcks: [], timerSynAcksPerRequest: [], answers: 0, giveUp: nil)
        var sequence: UInt32?
        var numTimeout = 0
        var lastSynAck = 0.0
        var previousWasSyn = false
        for segment in segments.sorted(by: { $0.time < $1.time }) {
            guard segment.isSynAck else {
                previousWasSyn = true
                continue
            }
            defer {
                previousWasSyn = false
                lastSynAck = segment.time
            }
            if segment.sequence != sequence {
                sequence = segment.sequence
                numTimeout = 0
                replay.timerSynAcksPerRequest.append(0)
            } else if previousWasSyn {
                replay.answers += 1
            } else {
                replay.timerSynAcks.append(TimerEvent(request: replay.timerSynAcksPerRequest.count - 1, expiry: numTimeout + 1,
                                                      anchor: lastSynAck, timer: timeout(numTimeout), observed: segment.time))
                numTimeout += 1
                replay.timerSynAcksPerRequest[replay.timerSynAcksPerRequest.count - 1] += 1
            }
        }
        if sequence != nil {
            replay.giveUp = TimerEvent(request: replay.timerSynAcksPerRequest.count - 1, expiry: numTimeout + 1,
                                       anchor: lastSynAck, timer: timeout(numTimeout), observed: nil)
        }
        return replay
    }
}
