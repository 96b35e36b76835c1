import TCPLabFault
import TCPLabNetlink
import TCPLabSystem

/// One tracepoint the kernel hit for a watched connection: its own word that a socket changed
/// state, that a segment is a retransmission, or that a reset was sent or received.
public struct KernelEvent: Sendable, Equatable {
    public enum Name: String, CaseIterable, Sendable, Codable {
        case stateChange = "inet_sock_set_state"
        case retransmit = "tcp_retransmit_skb"
        case retransmitSynAck = "tcp_retransmit_synack"
        case sendReset = "tcp_send_reset"
        case receiveReset = "tcp_receive_reset"

        /// The event's directory under events/.
        public var path: String { self == .stateChange ? "sock/\(rawValue)" : "tcp/\(rawValue)" }
    }

    public var name: Name
    /// The trace clock (CLOCK_MONOTONIC), µs.
    public var monotonicMicroseconds: Int64
    /// On NFLOG's clock (CLOCK_REALTIME), µs since the Unix epoch (`TraceClockMapping`).
    public var timeUnixMicroseconds: Int64
    /// The socket's own end and its peer (the tracepoint's source and destination).
    public var local: InetEndpoint
    public var remote: InetEndpoint
    /// The server is the socket whose own port is the watched one.
    public var side: Endpoint
    /// inet_sock_set_state: the states; the retransmit and reset events: the socket's state.
    public var oldState: TCPState?
    public var newState: TCPState?

    public init(name: Name, monotonicMicroseconds: Int64, timeUnixMicroseconds: Int64, local: InetEndpoint, remote: InetEndpoint,
                side: Endpoint, oldState: TCPState? = nil, newState: TCPState? = nil) {
        self.name = name
        self.monotonicMicroseconds = monotonicMicroseconds
        self.timeUnixMicroseconds = timeUnixMicroseconds
        self.local = local
        self.remote = remote
        self.side = side
        self.oldState = oldState
        self.newState = newState
    }

    /// A state change to CLOSE that only hands the connection to a time-wait socket
    /// (tcp_time_wait → tcp_done, from FIN_WAIT2 or CLOSING): the connection lives on in
    /// TIME_WAIT (or FIN_WAIT2's time-wait substate), which no tracepoint reports.
    public var handsOverToTimeWait: Bool {
        name == .stateChange && newState?.description == "CLOSED"
            && (oldState?.description == "FIN_WAIT2" || oldState?.description == "CLOSING")
    }

    /// On a ladder lane: "LAST_ACK → CLOSED", "retransmit", "RST sent".
    public var laneText: String {
        switch name {
        case .stateChange: "\(oldState?.description ?? "?") → \(newState?.description ?? "?")"
        case .retransmit: "retransmit"
        case .retransmitSynAck: "retransmit SYN-ACK"
        case .sendReset: "RST sent"
        case .receiveReset: "RST received"
        }
    }

    /// "server LAST_ACK → CLOSED (inet_sock_set_state)", "client retransmits (tcp_retransmit_skb, ESTABLISHED)".
    public var summary: String {
        let side = side.rawValue
        switch name {
        case .stateChange:
            return "\(side) \(oldState?.description ?? "?") → \(newState?.description ?? "?") (\(name.rawValue))"
        case .retransmit, .retransmitSynAck:
            return "\(side) retransmits (\(name.rawValue)\(newState.map { ", \($0)" } ?? ""))"
        case .sendReset:
            return "\(side) sends RST (\(name.rawValue))"
        case .receiveReset:
            return "\(side) receives RST (\(name.rawValue))"
        }
    }
}
