import TCPLabNetlink
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Polls sock_diag for the TCP sockets on one port and reports their transitions, in the network
/// namespace of the thread that creates it and in any others it is given (the client's, when
/// it runs in the server's). Not thread-safe: use it from one thread.
public final class SocketStateWatcher {
    public let port: UInt16
    public let interval: Duration
    public private(set) var transitions: [SocketTransition] = []
    /// One sock_diag socket per namespace watched, each with its own tracker: a namespace's
    /// dump is stamped when it was taken, not when the others were.
    private let diags: [SockDiagSocket]
    private var trackers: [SocketStateTracker]

    /// - Parameters:
    ///   - interval: time between polls (at most 10 ms is what the timelines need).
    ///   - originUnixMicroseconds: the zero of `offsetMicroseconds`; now by default.
    public init(port: UInt16, interval: Duration = .milliseconds(5), originUnixMicroseconds: Int64? = nil,
                includeListeners: Bool = false, alsoIn namespaces: [NamespaceReference] = []) throws {
        self.port = port
        self.interval = interval
        diags = try [SockDiagSocket()] + namespaces.map { reference in
            try NetworkNamespace.withEntered(reference) { try SockDiagSocket() }
        }
        let tracker = SocketStateTracker(port: port, originUnixMicroseconds: originUnixMicroseconds ?? Self.nowMicroseconds(),
                                         includeListeners: includeListeners)
        trackers = Array(repeating: tracker, count: diags.count)
    }

    /// The sockets on the port right now.
    public func snapshot() throws(SystemCallError) -> [TCPSocketDiagnostic] {
        var sockets: [TCPSocketDiagnostic] = []
        for diag in diags { sockets += try diag.tcpSockets(port: port) }
        return sockets
    }

    /// One poll: returns (and records) the transitions since the previous poll.
    @discardableResult
    public func poll() throws(SystemCallError) -> [SocketTransition] {
        var changes: [SocketTransition] = []
        for index in diags.indices {
            // Stamp the middle of the dump: the kernel walks its tables somewhere in between.
            let before = Self.nowMicroseconds()
            let sockets = try diags[index].tcpSockets(port: port)
            let stamp = before + (Self.nowMicroseconds() - before) / 2
            changes += trackers[index].update(sockets, timeUnixMicroseconds: stamp)
        }
        transitions += changes
        return changes
    }

    /// Polls every `interval` until `deadline` or until `stop` returns true, handing each
    /// transition to `body`.
    public func run(until deadline: ContinuousClock.Instant, stop: () -> Bool = { false },
                    _ body: (SocketTransition) -> Void = { _ in }) throws(SystemCallError) {
        var next = ContinuousClock.now
        while !stop(), ContinuousClock.now < deadline {
            for change in try poll() { body(change) }
            next += interval
            let now = ContinuousClock.now
            if next > now {
                let wait = next - now
                var request = timespec(tv_sec: Int(wait.components.seconds), tv_nsec: Int(wait.components.attoseconds / 1_000_000_000))
                _ = nanosleep(&request, nil)
            } else {
                next = now
            }
        }
    }

    /// CLOCK_REALTIME in µs, the clock NFLOG timestamps use.
    public static func nowMicroseconds() -> Int64 { WallClock.nowMicroseconds() }
}
