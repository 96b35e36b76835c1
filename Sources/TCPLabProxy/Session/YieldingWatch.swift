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

    init(_ feed: WatchFeed) throws {
        let stop = try EventFD()
        let ended = try EventFD()
        let work = Work(feed: feed)
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
        let feed: WatchFeed
        private(set) var failure: Error?

        init(feed: WatchFeed) { self.feed = feed }

        func run(stop: EventFD) {
            do {
                try ThreadPolicy.idle.apply()
                try loop(stop: stop)
            } catch {
                failure = error
            }
        }

        private static let stopToken: UInt64 = 1

        private func loop(stop: EventFD) throws {
            let epoll = try Epoll()
            defer { epoll.close() }
            try epoll.add(stop.descriptor, events: .readable, token: Self.stopToken)
            try feed.register(with: epoll)
            while true {
                for (token, _) in try epoll.wait(timeoutMilliseconds: feed.pollMilliseconds ?? -1) {
                    if token == Self.stopToken {
                        if stop.consume() { return }
                    } else {
                        _ = try feed.handle(token)
                    }
                }
                try feed.poll()
            }
        }
    }
}
