import TCPLabObserve
import TCPLabSystem

/// The watch on a thread of its own at SCHED_IDLE (see `FaultSession.yieldsToTraffic`): NFLOG
/// records, tracepoints and sock_diag polls, handed to the output as they are read. The
/// session's thread keeps answering the queue and the stop request at normal priority.
final class YieldingWatch {
    /// Readable once the watch thread has ended by itself (an error): the session stops too.
    let ended: EventFD
    private let stop: EventFD
    private let work: Work
    private var thread: JoinableThread?

    init(observer: ObservationSession, output: some FaultSessionOutput, states: Bool) throws {
        let stop = try EventFD()
        let ended = try EventFD()
        let work = Work(observer: observer, output: output, states: states)
        self.stop = stop
        self.ended = ended
        self.work = work
        thread = try JoinableThread(name: "faultproxy-watch") {
            work.run(stop: stop)
            ended.signal()
        }
    }

    /// Stops the thread and waits for it; from then on the observer and the output are the
    /// caller's again. Rethrows what ended the watch early.
    func finish() throws {
        stop.signal()
        thread?.join()
        thread = nil
        if let failure = work.failure { throw failure }
    }

    /// What the watch thread uses: the session's thread does not touch the observer or the
    /// output between `init` and `finish` (which joins the thread), hence unchecked.
    private final class Work: @unchecked Sendable {
        let observer: ObservationSession
        let output: any FaultSessionOutput
        let states: Bool
        private(set) var failure: Error?

        init(observer: ObservationSession, output: any FaultSessionOutput, states: Bool) {
            self.observer = observer
            self.output = output
            self.states = states
        }

        func run(stop: EventFD) {
            do {
                try ThreadPolicy.idle.apply()
                try loop(stop: stop)
            } catch {
                failure = error
            }
            // The final drain runs on the session's thread; it should not wait for spare CPU.
            try? ThreadPolicy.normal.apply()
        }

        private static let stopToken: UInt64 = 1
        private static let logToken: UInt64 = 2
        private static let traceToken: UInt64 = 3

        private func loop(stop: EventFD) throws {
            let epoll = try Epoll()
            defer { epoll.close() }
            try epoll.add(stop.descriptor, events: .readable, token: Self.stopToken)
            try epoll.add(observer.logDescriptor, events: .readable, token: Self.logToken)
            if let trace = observer.traceDescriptor { try epoll.add(trace, events: .readable, token: Self.traceToken) }
            let interval = Int32(observer.stateInterval.components.attoseconds / 1_000_000_000_000_000)
            while true {
                for (token, _) in try epoll.wait(timeoutMilliseconds: states ? interval : -1) {
                    switch token {
                    case Self.stopToken: if stop.consume() { return }
                    case Self.logToken: output.segments(try observer.drainLog())
                    default: output.kernel(observer.drainTrace())
                    }
                }
                if states { output.states(try observer.pollStates()) }
            }
        }
    }
}
