import TCPLabNetlink
import TCPLabObserve

/// Where a running session's news goes: the faultproxy command prints it, the TCPLab library
/// keeps it for the test. Called on the session's own thread, in the order things happened.
public protocol FaultSessionOutput: AnyObject {
    /// A line for people (faultproxy writes it to stderr): what is queued how, what was written.
    func notice(_ message: String)
    /// The table is in the kernel: from now on the faults act.
    func installed(_ table: NFTTable, scope: FaultScope)
    func segments(_ events: [TimelineEvent])
    func kernel(_ events: [KernelEvent])
    func states(_ transitions: [SocketTransition])
    /// The run is over and the table is about to go: the whole observation and the reports.
    func finished(_ ending: FaultSessionEnding) throws
}

/// How a session ended: what was watched, how complete the timeline is, what the faults did.
public struct FaultSessionEnding {
    /// The observation, still open (pcap and ladders are drawn from it); nil when nothing was watched.
    public let watch: ObservationSession?
    /// Records the kernel logged against those received; nil when nothing was watched.
    public let capture: TimelineCapture?
    public let drops: DropReport
    /// What the delays and duplicates did; nil without any.
    public let delays: DelayReport?
}
