import TCPLabSystem
import TCPLabFault
import TCPLabNetlink

/// A socket changed state, timer or retransmit count.
public struct SocketTransition: Sendable, Equatable {
    /// µs since the watcher's origin.
    public var offsetMicroseconds: Int64
    /// Wall-clock time (CLOCK_REALTIME, µs since the Unix epoch), comparable with NFLOG stamps.
    public var timeUnixMicroseconds: Int64
    /// The server is the socket whose local port is the watched port.
    public var side: Endpoint
    public var local: InetEndpoint
    public var remote: InetEndpoint
    /// nil: the socket is gone (closed and freed).
    public var state: TCPState?
    public var previousState: TCPState?
    public var timer: SocketTimer
    public var expiresMilliseconds: UInt32
    public var retransmits: UInt8

    public init(offsetMicroseconds: Int64, timeUnixMicroseconds: Int64, side: Endpoint, local: InetEndpoint,
                remote: InetEndpoint, state: TCPState?, previousState: TCPState?, timer: SocketTimer = .none,
                expiresMilliseconds: UInt32 = 0, retransmits: UInt8 = 0) {
        self.offsetMicroseconds = offsetMicroseconds
        self.timeUnixMicroseconds = timeUnixMicroseconds
        self.side = side
        self.local = local
        self.remote = remote
        self.state = state
        self.previousState = previousState
        self.timer = timer
        self.expiresMilliseconds = expiresMilliseconds
        self.retransmits = retransmits
    }

    /// "SYN_RECV (retransmit timer 1.98 s, retrans 1)", "CLOSED".
    public var stateText: String {
        guard let state else { return "CLOSED" }
        var details: [String] = []
        if timer != .none { details.append("\(timer) \(Self.seconds(milliseconds: expiresMilliseconds)) s") }
        if retransmits > 0 { details.append("retrans \(retransmits)") }
        return details.isEmpty ? "\(state)" : "\(state) (\(details.joined(separator: ", ")))"
    }

    /// "+1.020s server SYN_RECV (retransmit timer 1.98 s, retrans 1)".
    public var description: String {
        let sign = offsetMicroseconds < 0 ? "-" : "+"
        let ms = offsetMicroseconds.magnitude / 1000
        let fraction = String(ms % 1000)
        return "\(sign)\(ms / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s \(side.rawValue) \(stateText)"
    }

    /// 1980 → "1.98", 60000 → "60", 5 → "0.005".
    static func seconds(milliseconds: UInt32) -> String {
        var text = String(milliseconds / 1000)
        var fraction = String(milliseconds % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if !fraction.isEmpty { text += "." + fraction }
        return text
    }
}

/// Compares successive sock_diag snapshots of the sockets on one port and reports what changed.
/// Pure: the caller supplies the snapshots and their times.
public struct SocketStateTracker: Sendable {
    public let port: UInt16
    public let includeListeners: Bool
    public let originUnixMicroseconds: Int64
    private var known: [SocketKey: TCPSocketDiagnostic] = [:]

    struct SocketKey: Hashable, Sendable {
        let local: InetEndpoint
        let remote: InetEndpoint
    }

    public init(port: UInt16, originUnixMicroseconds: Int64, includeListeners: Bool = false) {
        self.port = port
        self.originUnixMicroseconds = originUnixMicroseconds
        self.includeListeners = includeListeners
    }

    /// Feeds one snapshot taken at `timeUnixMicroseconds`; returns the transitions since the last one.
    /// A change of state, timer kind or retransmit count is a transition; the ticking expiry is not.
    public mutating func update(_ sockets: [TCPSocketDiagnostic], timeUnixMicroseconds: Int64) -> [SocketTransition] {
        var transitions: [SocketTransition] = []
        var seen: Set<SocketKey> = []
        let offset = timeUnixMicroseconds - originUnixMicroseconds
        for socket in sockets {
            guard socket.local.port == port || socket.remote.port == port else { continue }
            if socket.state == .listen && !includeListeners { continue }
            let key = SocketKey(local: socket.local, remote: socket.remote)
            guard seen.insert(key).inserted else { continue }
            let before = known[key]
            known[key] = socket
            if let before, before.state == socket.state, before.timer == socket.timer,
               before.retransmits == socket.retransmits { continue }
            transitions.append(SocketTransition(
                offsetMicroseconds: offset, timeUnixMicroseconds: timeUnixMicroseconds,
                side: socket.local.port == port ? .server : .client, local: socket.local, remote: socket.remote,
                state: socket.state, previousState: before?.state, timer: socket.timer,
                expiresMilliseconds: socket.expiresMilliseconds, retransmits: socket.retransmits
            ))
        }
        for (key, socket) in known where !seen.contains(key) {
            known[key] = nil
            transitions.append(SocketTransition(
                offsetMicroseconds: offset, timeUnixMicroseconds: timeUnixMicroseconds,
                side: key.local.port == port ? .server : .client, local: key.local, remote: key.remote,
                state: nil, previousState: socket.state
            ))
        }
        return transitions
    }
}
