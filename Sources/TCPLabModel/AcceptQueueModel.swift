/// The listener's two queues and what becomes of a SYN or a handshake-completing ACK when
/// they are full (the accept-queue-full, syn-queue-full and fd-limit labs).
///
/// - listen(): the backlog is clamped to net.core.somaxconn (net/socket.c, __sys_listen) and
///   becomes sk_max_ack_backlog (inet_listen).
/// - The accept queue is full when it holds MORE than sk_max_ack_backlog connections
///   (include/net/sock.h, sk_acceptq_is_full: `sk_ack_backlog > sk_max_ack_backlog`), so it
///   holds backlog + 1. The request (SYN) queue likewise (inet_csk_reqsk_queue_is_full:
///   `reqsk_queue_len > sk_max_ack_backlog`; the syn-queue-full lab sees backlog + 1 SYN_RECV).
/// - A SYN (net/ipv4/tcp_input.c, tcp_conn_request): a full request queue (or
///   tcp_syncookies=2) answers with a SYN cookie when tcp_syncookies allows, else drops; then a
///   full accept queue drops the SYN outright — cookie or not — counting ListenOverflows and
///   ListenDrops. No SYN-ACK at all: the client retransmits its SYN.
/// - A handshake-completing ACK (net/ipv4/tcp_minisocks.c, tcp_check_req → syn_recv_sock,
///   tcp_v4_syn_recv_sock): at a full accept queue the child is not created (ListenOverflows,
///   ListenDrops). With tcp_abort_on_overflow=0 the request stays, marked acked, and its
///   SYN-ACK timer runs on unchanged (reqsk_timer_handler, syn_ack_recalc: the retries and
///   give-up of RetransmissionModel.synAck); with 1 the listener answers RST and drops the
///   request (EmbryonicRsts).
///
/// Holds for the 6.x kernels this project runs (checked on 6.18 by the accept-queue-full and
/// fd-limit labs; tcp_max_syn_backlog's last-quarter rule without cookies is left out).
public enum AcceptQueueModel {
    /// sk_max_ack_backlog for a listen(backlog) call.
    public static func maximumBacklog(backlog: Int, somaxconn: Int) -> Int { max(0, min(backlog, somaxconn)) }

    /// Established connections the accept queue holds before it is full.
    public static func capacity(backlog: Int, somaxconn: Int) -> Int { maximumBacklog(backlog: backlog, somaxconn: somaxconn) + 1 }

    public enum SynFate: String, Sendable, Equatable {
        /// A request socket and a SYN-ACK.
        case answered
        /// A SYN-ACK carrying a SYN cookie; no request socket.
        case cookie
        /// The request queue is full and cookies are off (TCPReqQFullDrop).
        case droppedRequestQueueFull
        /// The accept queue is full (ListenOverflows + ListenDrops): no answer at all.
        case droppedAcceptQueueFull
    }

    /// What a listener does with a new SYN, given how many connections wait in its accept queue
    /// and how many requests in SYN_RECV.
    public static func synFate(acceptQueue: Int, requests: Int, backlog: Int, somaxconn: Int, syncookies: Int) -> SynFate {
        let maximum = maximumBacklog(backlog: backlog, somaxconn: somaxconn)
        var cookie = false
        if syncookies == 2 || requests > maximum {
            guard syncookies != 0 else { return .droppedRequestQueueFull }
            cookie = true
        }
        if acceptQueue > maximum { return .droppedAcceptQueueFull }
        return cookie ? .cookie : .answered
    }

    public enum AckFate: String, Sendable, Equatable {
        /// The child socket joins the accept queue.
        case queued
        /// Dropped (ListenOverflows + ListenDrops); the request stays and the SYN-ACK timer goes on.
        case dropped
        /// RST to the client, the request removed (ListenOverflows + ListenDrops + EmbryonicRsts).
        case reset
    }

    /// What a listener does with the ACK that would complete a request's handshake.
    public static func completingAck(acceptQueue: Int, backlog: Int, somaxconn: Int, abortOnOverflow: Int) -> AckFate {
        guard acceptQueue > maximumBacklog(backlog: backlog, somaxconn: somaxconn) else { return .queued }
        return abortOnOverflow == 0 ? .dropped : .reset
    }

    /// SYNs a client sends while every one is dropped, up to a connect timeout of `within`
    /// seconds: the first and each retransmission the schedule sends before then.
    public static func synsSent(_ schedule: RetransmissionSchedule, within seconds: Double) -> Int {
        1 + schedule.retransmissions.filter { $0 < seconds }.count
    }
}
