import Foundation
import TCPLabFault
import TCPLabObserve
import TCPLabProxy
import TCPLabSystem

/// A fault installed in a lab, with its timeline: faultproxy's session, run in this process on
/// a thread of its own inside the server's namespace (setns is per thread). The fault stays until
/// `stop()`; the table is owned by the session's netlink socket, so the kernel removes it even if
/// the process dies.
public final class FaultProxyRun: @unchecked Sendable {
    public let faults: [Fault]
    public let port: UInt16
    public let tolerance: TimingTolerance
    /// Where the run's packets go when it stops (nil: nowhere).
    public var pcapPath: String? { recorder.pcapPath }
    private let recorder: SessionRecorder
    private let stopEvent: EventFD

    init(session: FaultSession, faults: [Fault], tolerance: TimingTolerance, pcap: String?) throws {
        self.faults = faults
        port = session.plan.port
        self.tolerance = tolerance
        recorder = SessionRecorder(pcapPath: pcap)
        stopEvent = try EventFD()
        let (recorder, stopEvent) = (recorder, stopEvent)
        let thread = Thread {
            do {
                try session.run(stop: stopEvent, output: recorder)
                recorder.end()
            } catch {
                recorder.end(error)
            }
        }
        thread.name = "tcplab fault :\(session.plan.port)"
        thread.start()
        do {
            try recorder.awaitInstalled(timeout: 10)
        } catch {
            stopEvent.signal()
            throw LabError.unexpected("faultproxy (\(faults.map(\.description).joined(separator: ", "))) did not start: \(error)")
        }
    }

    deinit { _ = stop() }

    /// What the kernel has reported so far (segments and states as they happen).
    public func observation() -> Observation {
        let (events, transitions, kernel) = recorder.snapshot()
        return Observation(events: events, transitions: transitions, kernelEvents: kernel, tolerance: tolerance)
    }

    /// Waits until `condition` holds for the observation so far, or `timeout` passes.
    @discardableResult
    public func wait(timeout: Double, until condition: (Observation) -> Bool) -> Observation {
        let deadline = Date().addingTimeInterval(timeout)
        var current = observation()
        while !condition(current), Date() < deadline {
            usleep(10_000)
            current = observation()
        }
        return current
    }

    /// Removes the fault and returns the whole observation (with the last records the kernel
    /// still had queued). Safe to call twice.
    @discardableResult
    public func stop() -> Observation {
        stopEvent.signal()
        _ = recorder.awaitEnd(timeout: 30)
        return observation()
    }

    /// After `stop()`: the kernel's counts of what the faults did, or why the run failed.
    public func summary() throws -> FaultSessionSummary {
        guard let outcome = recorder.awaitEnd(timeout: 0) else { throw LabError.unexpected("the fault is still installed: stop() it first") }
        return try outcome.get()
    }

    /// What the session said along the way (faultproxy's stderr lines).
    public var messages: [String] { recorder.messages }
}
