import TCPLab
import TCPLabFault
import Testing

/// Expectations in Swift Testing's style over a lab's observation: a failure is recorded as an
/// issue with packetdrill's sentence ("syn retransmission 2: expected +3.000 s ± 0.036 s, observed
/// +3.112 s") and the test goes on, as with `#expect`. For `#require`'s stop-here, call the
/// throwing `assert…` forms with `try`.
extension Observation {
    /// Expects `count` dropped segments of `kind`, all before `deadline` seconds after the first segment.
    public func expectDropped(_ kind: SegmentKind, count: Int, before deadline: Double? = nil,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        recordMismatch(sourceLocation) { try assertDropped(kind, count: count, before: deadline) }
    }

    /// Expects the segments of `kind` from `sender` at the model's offsets, each judged with the lab's tolerance.
    public func expectSchedule(_ kind: SegmentKind, from sender: Endpoint, expected: RetransmissionSchedule, connection: Int = 0,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        recordMismatch(sourceLocation) { try assertSchedule(kind, from: sender, expected: expected, connection: connection) }
    }
}

extension ClientResult {
    /// Expects the client to have failed with `errnoName` after about `seconds` (the lab's tolerance).
    public func expectFailed(_ errnoName: String, after seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        recordMismatch(sourceLocation) { try assertFailed(errnoName, after: seconds) }
    }
}

/// Runs a throwing TCPLab assertion as an expectation: its mismatch becomes an issue at the
/// caller's line, and counts for the trait's evidence.
private func recordMismatch(_ sourceLocation: SourceLocation, _ check: () throws -> Void) {
    do {
        try check()
    } catch {
        ExpectationFailures.current?.add()
        Issue.record("\(error)", sourceLocation: sourceLocation)
    }
}
