import TCPLabObserve
import TCPLabSystem

/// The observation's descriptors on an event loop, and what each one's readiness hands the
/// output: the one dispatch that the session's own loop and the yielding watch's thread share.
struct WatchFeed {
    let observer: ObservationSession
    let output: any FaultSessionOutput
    /// sock_diag states are followed too.
    let states: Bool

    // Tokens clear of the queue's and the relay's (FaultSession, DelayEngine, Relay).
    private static let logToken: UInt64 = 1 << 59
    private static let traceToken: UInt64 = 1 << 57

    func register(with epoll: Epoll) throws(SystemCallError) {
        try epoll.add(observer.logDescriptor, events: .readable, token: Self.logToken)
        if let trace = observer.traceDescriptor { try epoll.add(trace, events: .readable, token: Self.traceToken) }
    }

    /// Reads what `token` says is waiting and hands it on; false when the token is not ours.
    func handle(_ token: UInt64) throws(SystemCallError) -> Bool {
        switch token {
        case Self.logToken: output.segments(try observer.drainLog())
        case Self.traceToken: output.kernel(observer.drainTrace())
        default: return false
        }
        return true
    }

    /// sock_diag has no events: with states, the loop waits at most this long between polls.
    var pollMilliseconds: Int32? {
        states ? Int32(observer.stateInterval.components.attoseconds / 1_000_000_000_000_000) : nil
    }

    func pollStates() throws(SystemCallError) {
        if states { output.states(try observer.pollStates()) }
    }
}
