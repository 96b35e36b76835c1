import TCPLabNetlink
import TCPLabObserve
import TCPLabProxy
import TCPLabSystem

/// faultproxy's side of a session: the timeline on stdout as it happens, people's lines on
/// stderr, and at the end the ladder, the pcap and the reports (with --json, JSON lines).
final class ConsoleOutput: FaultSessionOutput {
    let plan: String
    let namespace: NamespaceReference?
    let json: Bool
    let ladder: LadderRequest?
    let pcap: String?
    private let printer: TimelinePrinter?

    init(faults plan: String, namespace: NamespaceReference?, json: Bool, timeline: TimelineFormat?, watching: Bool,
         ladder: LadderRequest?, pcap: String?) {
        self.plan = plan
        self.namespace = namespace
        self.json = json
        self.ladder = ladder
        self.pcap = pcap
        printer = watching ? TimelinePrinter(format: timeline) : nil
    }

    func notice(_ message: String) { printError("faultproxy: " + message) }

    func installed(_ table: NFTTable, scope: FaultScope) {
        let place: String
        switch scope {
        case .relay(let listen, let upstream, let port):
            place = "relaying \(listen) → \(upstream), faults on port \(port)"
        case .transparent(let port):
            place = "faults on every connection of port \(port)"
        }
        let inside = namespace.map { " in netns \($0)" } ?? ""
        notice("\(plan); \(place)\(inside) (table inet \(table.name)). Ctrl-C to stop.")
    }

    func segments(_ events: [TimelineEvent]) { printer?.print(segments: events) }
    func kernel(_ events: [KernelEvent]) { printer?.print(kernel: events) }
    func states(_ transitions: [SocketTransition]) { printer?.print(states: transitions) }

    func finished(_ ending: FaultSessionEnding) throws {
        if let watch = ending.watch, let capture = ending.capture {
            // A ladder asked for on stdout takes the text ladder's place.
            if ladder.map({ $0.path != nil }) ?? true { printer?.finish(watch, capture: capture) }
            if let ladder { try ladder.emit(watch) }
            if let pcap {
                try watch.writePcap(to: pcap)
                notice("wrote \(watch.events.count) segments to \(pcap)")
            }
            if capture.missed > 0 { notice(capture.summary) }
        }
        if let delays = ending.delays {
            if json { JSONLines.emit(DelayReportLine(queue: delays)) }
            notice(delays.summary)
        }
        if json { JSONLines.emit(ending.drops) }
        notice(ending.drops.summary)
    }
}
