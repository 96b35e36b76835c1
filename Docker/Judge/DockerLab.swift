/// The labs the compose files in Docker/compose run, with the sysctls each one's verdict reads.
enum DockerLab: String, CaseIterable, Sendable {
    case synLost = "syn-lost"
    case synackLost = "synack-lost"
    case ackLost = "ack-lost"
    case finLost = "fin-lost"
    case timeWait = "time-wait"
    case closeWaitLeak = "close-wait-leak"
    case clientDeadKeepalive = "client-dead-keepalive"

    var summary: String {
        switch self {
        case .synLost: "every SYN lost: the client retransmits on the kernel's schedule, then ETIMEDOUT"
        case .synackLost: "every SYN-ACK lost: both ends retransmit, the client gives up on its SYN schedule"
        case .ackLost: "the handshake's last ACK lost: the server stays SYN_RECV until the client's data arrives"
        case .finLost: "the client's FIN lost twice: FIN_WAIT_1 retransmits it on RTO, then TIME_WAIT"
        case .timeWait: "a normal close: TIME_WAIT on the active closer only, for 60 s"
        case .closeWaitLeak: "the server never calls close(): CLOSE_WAIT stays, the client leaves FIN_WAIT_2 after tcp_fin_timeout"
        case .clientDeadKeepalive: "the client stops answering: the server's keepalive probes go unanswered and it resets"
        }
    }

    /// The sysctls that decide this lab's outcome.
    var sysctls: [String] {
        switch self {
        case .synLost: ["tcp_syn_retries", "tcp_syn_linear_timeouts"]
        case .synackLost: ["tcp_syn_retries", "tcp_syn_linear_timeouts", "tcp_synack_retries"]
        case .ackLost: ["tcp_synack_retries"]
        case .finLost: ["tcp_orphan_retries"]
        case .timeWait: ["tcp_fin_timeout"]
        case .closeWaitLeak: ["tcp_fin_timeout"]
        case .clientDeadKeepalive: ["tcp_keepalive_time", "tcp_keepalive_intvl", "tcp_keepalive_probes"]
        }
    }
}
