import Foundation
import TCPLabNetlink
import TCPLabObserve
import TCPLabProxy

/// The library's side of a fault session: keeps what the session reports, on the session's
/// thread, for the test's thread to read at any moment.
final class SessionRecorder: FaultSessionOutput, @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [TimelineEvent] = []
    private var transitions: [SocketTransition] = []
    private var kernelEvents: [KernelEvent] = []
    private var notices: [String] = []
    private var isInstalled = false
    private var summary: FaultSessionSummary?
    private var outcome: Result<FaultSessionSummary, any Error>?
    /// Where the run's packets go at the end (nil: nowhere).
    let pcapPath: String?

    init(pcapPath: String?) { self.pcapPath = pcapPath }

    // MARK: FaultSessionOutput (the session's thread)

    func notice(_ message: String) { condition.withLock { notices.append(message) } }

    func installed(_ table: NFTTable, scope: FaultScope) {
        condition.withLock {
            isInstalled = true
            condition.broadcast()
        }
    }

    func segments(_ events: [TimelineEvent]) { if !events.isEmpty { condition.withLock { self.events += events } } }
    func kernel(_ events: [KernelEvent]) { if !events.isEmpty { condition.withLock { kernelEvents += events } } }
    func states(_ transitions: [SocketTransition]) { if !transitions.isEmpty { condition.withLock { self.transitions += transitions } } }

    func finished(_ ending: FaultSessionEnding) throws {
        if let pcapPath, let watch = ending.watch { try watch.writePcap(to: pcapPath) }
        condition.withLock { summary = FaultSessionSummary(drops: ending.drops, delays: ending.delays, capture: ending.capture) }
    }

    /// The session's thread is done and has let go of its sockets (the NFLOG group is free for
    /// the next run): with the summary, or with why it failed.
    func end(_ failure: (any Error)? = nil) {
        condition.withLock {
            if outcome == nil {
                if let failure {
                    outcome = .failure(failure)
                } else if let summary {
                    outcome = .success(summary)
                } else {
                    outcome = .failure(LabError.unexpected("the fault session ended without its report"))
                }
            }
            condition.broadcast()
        }
    }

    // MARK: the test's side

    /// Waits until the rules are in (or the session failed, which this rethrows).
    func awaitInstalled(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        try condition.withLock {
            while !isInstalled, outcome == nil, condition.wait(until: deadline) {}
            if case .failure(let error) = outcome { throw error }
            guard isInstalled else { throw LabError.timedOut("the fault's rules were not installed within \(timeout) s") }
        }
    }

    /// Waits for the end of the run; nil if it has not ended within `timeout`.
    func awaitEnd(timeout: Double) -> Result<FaultSessionSummary, any Error>? {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while outcome == nil, condition.wait(until: deadline) {}
            return outcome
        }
    }

    func snapshot() -> (events: [TimelineEvent], transitions: [SocketTransition], kernel: [KernelEvent]) {
        condition.withLock { (events, transitions, kernelEvents) }
    }

    var messages: [String] { condition.withLock { notices } }
}

/// What a fault run did, by the kernel's counters.
public struct FaultSessionSummary: Sendable {
    public let drops: DropReport
    public let delays: DelayReport?
    /// How complete the timeline is (records the kernel logged against those received).
    public let capture: TimelineCapture?
}
