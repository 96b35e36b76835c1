import Foundation
import TCPLabFault
import TCPLabNetlink
import TCPLabObserve
import TCPLabSystem

/// Socket states from the kernel's own tracepoint (`sock:inet_sock_set_state`) where faultproxy
/// recorded it, from sock_diag's 5 ms poll where not: the tracepoint has every state at the
/// kernel's time (LAST_ACK, FIN_WAIT2, CLOSING that the poll misses, and a CLOSE the poll sees
/// late on a loaded machine); sock_diag alone sees TIME_WAIT (a time-wait socket takes over with a
/// tracepoint "FIN_WAIT2 → CLOSE" or "CLOSING → CLOSE", `handsOverToTimeWait`) and that socket's end.
public struct StateStep: Sendable, Hashable {
    public var state: String
    public var timeUnixMicroseconds: Int64
    /// Where the time comes from: the tracepoint, or sock_diag's poll (TIME_WAIT and a time-wait socket's end).
    public var fromTracepoint: Bool
}

extension Observation {
    /// The states one side went through, in time order, with their times; consecutive repeats merged.
    public func stateSteps(_ side: Endpoint, localPort: UInt16? = nil) -> [StateStep] {
        let all = sockets(side, localPort: localPort).flatMap { stateSteps(side, local: $0.local, remote: $0.remote) }
        return Self.merged(all.sorted { $0.timeUnixMicroseconds < $1.timeUnixMicroseconds })
    }

    /// The sockets (own end, peer) of a side that either source saw.
    func sockets(_ side: Endpoint, localPort: UInt16? = nil) -> [(local: InetEndpoint, remote: InetEndpoint)] {
        var seen: [String: (InetEndpoint, InetEndpoint)] = [:]
        for change in states(side, localPort: localPort) { seen["\(change.local) \(change.remote)"] = (change.local, change.remote) }
        for event in kernelEvents where event.name == .stateChange && event.side == side && (localPort == nil || event.local.port == localPort) {
            seen["\(event.local) \(event.remote)"] = (event.local, event.remote)
        }
        return seen.values.map { (local: $0.0, remote: $0.1) }
    }

    /// One socket's states: sock_diag's until the first tracepoint, then the tracepoints', with
    /// the time-wait socket's TIME_WAIT (or FIN_WAIT2) and its end from sock_diag after a hand-over.
    func stateSteps(_ side: Endpoint, local: InetEndpoint, remote: InetEndpoint) -> [StateStep] {
        let polled = transitions.filter { $0.side == side && $0.local == local && $0.remote == remote }.map {
            StateStep(state: $0.state?.description ?? "CLOSED", timeUnixMicroseconds: $0.timeUnixMicroseconds, fromTracepoint: false)
        }
        let traced = kernelEvents.filter { $0.name == .stateChange && $0.side == side && $0.local == local && $0.remote == remote }
        guard let first = traced.first else { return Self.merged(polled) }
        // A poll before the first tracepoint counts only for a socket whose birth was not traced:
        // otherwise it can only be the clocks' disagreement (a poll stamped just before the connect).
        var steps = first.opensSocket ? [] : polled.filter { $0.timeUnixMicroseconds < first.timeUnixMicroseconds && $0.state != "CLOSED" }
        for event in traced {
            guard event.handsOverToTimeWait else {
                steps.append(StateStep(state: event.newState?.description ?? "CLOSED", timeUnixMicroseconds: event.timeUnixMicroseconds,
                                       fromTracepoint: true))
                continue
            }
            // The poll may have caught the time-wait socket a little before the tracepoint's line was read.
            let after = polled.filter { $0.timeUnixMicroseconds >= event.timeUnixMicroseconds - 10_000 }
            let timeWait = after.drop { $0.state != "TIME_WAIT" && $0.state != "FIN_WAIT2" }
                .filter { $0.state == "TIME_WAIT" || $0.state == "FIN_WAIT2" || $0.state == "CLOSED" }
            // A dump is not atomic: one that missed the time-wait socket while the hand-over moved it
            // reports CLOSED, and a later one sees it again (measured on the router topology: CLOSED
            // and FIN_WAIT2 in the same poll, 2 s before its real end). Its end is the CLOSED after
            // the last sighting.
            let lastSighting = timeWait.last { $0.state != "CLOSED" }?.timeUnixMicroseconds ?? .min
            steps += timeWait.filter { $0.state != "CLOSED" || $0.timeUnixMicroseconds > lastSighting }
                .map { StateStep(state: $0.state, timeUnixMicroseconds: max($0.timeUnixMicroseconds, event.timeUnixMicroseconds),
                                 fromTracepoint: false) }
        }
        return Self.merged(steps)
    }

    static func merged(_ steps: [StateStep]) -> [StateStep] {
        var result: [StateStep] = []
        for step in steps where result.last?.state != step.state { result.append(step) }
        return result
    }
}
