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
    private static let ringToken: UInt64 = 1 << 55

    func register(with epoll: Epoll) throws(SystemCallError) {
        try epoll.add(observer.logDescriptor, events: .readable, token: Self.logToken)
        if let trace = observer.traceDescriptor { try epoll.add(trace, events: .readable, token: Self.traceToken) }
        if let ring = observer.ringDescriptor { try epoll.add(ring, events: .readable, token: Self.ringToken) }
    }

    /// Reads what `token` says is waiting and hands it on; false when the token is not ours.
    func handle(_ token: UInt64) throws(SystemCallError) -> Bool {
        switch token {
        case Self.logToken: output.segments(try observer.drainLog())
        case Self.traceToken: output.kernel(observer.drainTrace())
        case Self.ringToken: output.segments(observer.drainRing())
        default: return false
        }
        return true
    }

    /// sock_diag has no events, and segments the merge still holds settle with time: the loop
    /// waits at most this long between polls (with states, or while segments wait).
    var pollMilliseconds: Int32? {
        if states { return Int32(observer.stateInterval.components.attoseconds / 1_000_000_000_000_000) }
        return observer.hasUnsettledSegments ? Int32(ObservationSession.settleMicroseconds / 4000) : nil
    }

    /// One sock_diag poll (with states) and the segments that have settled since the last one.
    func poll() throws(SystemCallError) {
        if states { output.states(try observer.pollStates()) }
        if observer.hasUnsettledSegments { output.segments(observer.drainSettled()) }
    }
}
