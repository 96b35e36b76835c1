/// When the kernel retransmits handshake segments and when it gives up, computed from the
/// sysctls of the namespace under test. Each rule names the kernel source it follows.
public struct RetransmissionSchedule: Sendable, Hashable {
    /// Offsets from the first transmission at which each retransmission is sent.
    public var retransmissions: [Double]
    /// Offset at which the kernel gives up (connect() fails with ETIMEDOUT, or the request
    /// socket is dropped).
    public var giveUp: Double
    /// The timer lengths, in order, that lead to the give-up (for timing allowances).
    public var timeouts: [Double]

    /// The timer lengths that lead to the n-th retransmission (0-based).
    public func timeouts(untilRetransmission index: Int) -> [Double] { Array(timeouts.prefix(index + 1)) }

    /// Transmissions in all: the original and every retransmission.
    public var transmissions: Int { retransmissions.count + 1 }
}

public enum RetransmissionModel {
    /// TCP_TIMEOUT_INIT: the initial RTO for SYN and SYN-ACK (include/net/tcp.h), 1 s since 2.6.39 (RFC 6298).
    public static let initialRTO = 1.0
    /// TCP_RTO_MAX default, 120 s (tcp_rto_max_ms since 6.15 makes it per namespace).
    public static let defaultMaximumRTO = 120.0

    /// The connecting side's SYN (net/ipv4/tcp_timer.c: tcp_retransmit_timer, tcp_write_timeout,
    /// retransmits_timed_out, tcp_model_timeout; Documentation/networking/ip-sysctl.rst).
    ///
    /// - The first `linearTimeouts` retransmissions wait a flat initial RTO, and so does the one
    ///   after them ("1, 1, 1, 1, 1, 2, 4, ..." for 4 linear timeouts); then the RTO doubles, up
    ///   to `maximumRTO`. Kernels before 6.5 have no tcp_syn_linear_timeouts: pass 0, and the
    ///   timeouts are 1, 2, 4, ... from the first retry.
    /// - The kernel gives up when a timer fires and either `synRetries + linearTimeouts`
    ///   retransmissions have been sent, or the time since the first SYN reaches the limit the
    ///   exponential model gives for `synRetries` alone: initialRTO × (2^(synRetries+1) − 1)
    ///   while that stays below maximumRTO steps (tcp_model_timeout).
    public static func syn(synRetries: Int, linearTimeouts: Int = 0, maximumRTO: Double = defaultMaximumRTO) -> RetransmissionSchedule {
        let limit = modelTimeout(boundary: synRetries, maximumRTO: maximumRTO)
        let maxRetransmissions = synRetries + linearTimeouts
        var timeouts: [Double] = []
        var retransmissions: [Double] = []
        var now = 0.0
        var index = 0
        while true {
            let timeout = index <= linearTimeouts && linearTimeouts > 0
                ? initialRTO
                : min(initialRTO * pow2(index - (linearTimeouts > 0 ? linearTimeouts : 0)), maximumRTO)
            timeouts.append(timeout)
            now += timeout
            // The timer fires at `now`: give up, or retransmit and back off.
            if retransmissions.count >= maxRetransmissions || now >= limit - 1e-9 {
                return RetransmissionSchedule(retransmissions: retransmissions, giveUp: now, timeouts: timeouts)
            }
            retransmissions.append(now)
            index += 1
        }
    }

    /// The listener's SYN-ACK (net/ipv4/inet_connection_sock.c: reqsk_timer_handler): the
    /// request socket's timer doubles from the initial RTO; after `synackRetries` timeouts the
    /// request is dropped. Retransmissions the client's repeated SYNs provoke (inet_rtx_syn_ack)
    /// are extra and do not count towards the limit.
    public static func synAck(synackRetries: Int, maximumRTO: Double = defaultMaximumRTO) -> RetransmissionSchedule {
        var retransmissions: [Double] = []
        var timeouts: [Double] = []
        var now = 0.0
        for attempt in 0...synackRetries {
            timeouts.append(min(initialRTO * pow2(attempt), maximumRTO))
            now += timeouts[attempt]
            if attempt == synackRetries { break }
            retransmissions.append(now)
        }
        return RetransmissionSchedule(retransmissions: retransmissions, giveUp: now, timeouts: timeouts)
    }

    /// tcp_model_timeout(): the time `boundary` exponential retries take, from the initial RTO.
    static func modelTimeout(boundary: Int, maximumRTO: Double) -> Double {
        modelTimeout(boundary: boundary, initialRTO: initialRTO, maximumRTO: maximumRTO)
    }

    /// tcp_model_timeout() from any RTO base: TCP_TIMEOUT_INIT for SYN_SENT/SYN_RECV, TCP_RTO_MIN otherwise.
    public static func modelTimeout(boundary: Int, initialRTO: Double, maximumRTO: Double) -> Double {
        let threshold = Int((maximumRTO / initialRTO).log2Floor)
        if boundary <= threshold {
            return (pow2(boundary + 1) - 1) * initialRTO
        }
        return (pow2(threshold + 1) - 1) * initialRTO + Double(boundary - threshold) * maximumRTO
    }

    static func pow2(_ exponent: Int) -> Double { exponent <= 0 ? 1 : Double(1 << min(exponent, 62)) }
}

extension Double {
    /// ilog2 for the kernel's integer arithmetic.
    var log2Floor: Double {
        var value = self
        var result = 0.0
        while value >= 2 { value /= 2; result += 1 }
        return result
    }
}
