import TCPLabNetlink
import TCPLabSystem

/// The lab's TCP sockets, listed through sock_diag from inside the shared namespace (no privilege
/// needed to list them; in-process, so sampling every 10 ms costs well under a millisecond).
final class SocketCensus {
    let port: UInt16
    private let diag: SockDiagSocket?

    init(port: UInt16) {
        self.port = port
        diag = try? SockDiagSocket()
    }

    /// Server-side sockets (source port = the lab port) and client-side ones (destination port).
    enum Side: Sendable { case server, client }

    /// One socket: its state as the kernel names it ("TIME_WAIT") and its timer's remaining time.
    struct Entry: Sendable {
        var state: String
        var timerSeconds: Double?
    }

    /// `state` is TCPState's name: SYN_RECV, TIME_WAIT, FIN_WAIT2, CLOSE_WAIT, ...
    func sockets(_ side: Side, state: String) -> [Entry] {
        let all = (try? diag?.tcpSockets(port: port)) ?? []
        return all.filter { side == .server ? $0.local.port == port : $0.remote.port == port }
            .filter { $0.state.description == state }
            .map { Entry(state: $0.state.description, timerSeconds: $0.timer.rawValue == 0 ? nil : Double($0.expiresMilliseconds) / 1000) }
    }

    func count(_ side: Side, state: String) -> Int { sockets(side, state: state).count }

    /// Every state the side's connected sockets are in now (LISTEN left out), e.g. ["LAST_ACK"].
    func states(_ side: Side) -> [String] {
        let all = (try? diag?.tcpSockets(port: port)) ?? []
        return all.filter { side == .server ? $0.local.port == port : $0.remote.port == port }
            .map { $0.state.description }.filter { $0 != "LISTEN" }
    }
}
