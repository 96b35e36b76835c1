import TCPLabObserve
import TCPLabSystem

/// The observation's descriptors on an event loop, and what each one's readiness hands the
/// output: the one dispatch that the session's own loop and the yielding watch's thread share.
/// Used by one thread at a time.
final class WatchFeed {
    let observer: ObservationSession
    let output: any FaultSessionOutput
    /// sock_diag states are followed too.
    let states: Bool
    private var epoll: Epoll?
    /// The loop wakes when a ring block is ready; not while a burst's blocks wait in the ring.
    private var ringArmed = true

    init(observer: ObservationSession, output: any FaultSessionOutput, states: Bool) {
        self.observer = observer
        self.output = output
        self.states = states
    }

    // Tokens clear of the queue's and the relay's (FaultSession, DelayEngine, Relay).
    private static let logToken: UInt64 = 1 << 59
    private static let traceToken: UInt64 = 1 << 57
    private static let ringToken: UInt64 = 1 << 55

    func register(with epoll: Epoll) throws(SystemCallError) {
        try epoll.add(observer.logDescriptor, events: .readable, token: Self.logToken)
        if let trace = observer.traceDescriptor { try epoll.add(trace, events: .readable, token: Self.traceToken) }
        if let ring = observer.ringDescriptor { try epoll.add(ring, events: .readable, token: Self.ringToken) }
        self.epoll = epoll
    }

    /// Reads what `token` says is waiting and hands it on; false when the token is not ours.
    func handle(_ token: UInt64) throws(SystemCallError) -> Bool {
        switch token {
        case Self.logToken: output.segments(try observer.drainLog())
        case Self.traceToken: output.kernel(observer.drainTrace())
        case Self.ringToken: output.segments(observer.drainRing())
        default: return false
        }
        try armRing()
        return true
    }

    /// Waits on the ring's descriptor only while no burst is held in it: its blocks stay ready
    /// (the descriptor readable) until the burst is over, and `poll()` looks at them meanwhile.
    private func armRing() throws(SystemCallError) {
        guard let ring = observer.ringDescriptor, let epoll, ringArmed == observer.ringHeld else { return }
        ringArmed.toggle()
        try epoll.modify(ring, events: ringArmed ? .readable : [], token: Self.ringToken)
    }

    /// How often a held burst is looked at: the ring's second half (16 MiB) takes ~0.7 s to
    /// fill at loopback bulk speed.
    private static let heldRingMilliseconds: Int32 = 50

    /// sock_diag has no events, and segments the merge still holds settle with time: the loop
    /// waits at most this long between polls (with states, or while segments wait).
    var pollMilliseconds: Int32? {
        if states { return Int32(observer.stateInterval.components.attoseconds / 1_000_000_000_000_000) }
        if observer.ringHeld { return Self.heldRingMilliseconds }
        return observer.hasUnsettledSegments ? Int32(ObservationSession.settleMicroseconds / 4000) : nil
    }

    /// One sock_diag poll (with states) and the segments that have settled since the last one.
    func poll() throws(SystemCallError) {
        if states { output.states(try observer.pollStates()) }
        if observer.hasUnsettledSegments { output.segments(observer.drainSettled()) }
        try armRing()
    }
}
