import Foundation
import TCPLabSchema

/// What one echo-client run reported (its `--json` object), with timing assertions.
public struct ClientResult: Sendable {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String
    /// How long the run took from outside, including process start.
    public var wallSeconds: Double
    public var tolerance: TimingTolerance

    public init(status: Int32, standardOutput: String, standardError: String, wallSeconds: Double, tolerance: TimingTolerance = .forTick()) {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.wallSeconds = wallSeconds
        self.tolerance = tolerance
    }

    /// The client's `--json` report (its last line); nil when it printed none.
    public var report: EchoClientReport? {
        guard let line = standardOutput.split(separator: "\n").last else { return nil }
        return try? JSONDecoder().decode(EchoClientReport.self, from: Data(line.utf8))
    }

    /// The errno name of the failure ("ETIMEDOUT"), nil on success.
    public var error: String? { report?.error }
    public var echoOK: Bool { report?.echoOK ?? false }
    /// From connect() to its return (success or failure), in seconds.
    public var connectSeconds: Double? { report?.connectMilliseconds.map { $0 / 1000 } }
    public var elapsedSeconds: Double? { report.map { $0.elapsedMilliseconds / 1000 } }
    /// The client's local address ("127.0.0.1:40000").
    public var local: String? { report?.local }
    /// TCP_INFO at the end: retransmits, total_retrans, rto (µs), rtt (µs), ...
    public var tcpInfo: TCPInfoSummary? { report?.tcpInfo }
    public var rttSeconds: Double? { tcpInfo.map { Double($0.rttMicroseconds) / 1_000_000 } }
    public var rtoSeconds: Double? { tcpInfo.map { Double($0.rtoMicroseconds) / 1_000_000 } }

    /// Throws unless connect() succeeded `after` seconds (± the tolerance for these timers).
    public func assertConnect(after expected: Double, timers: [Double]? = nil, tolerance: TimingTolerance? = nil) throws {
        guard status == 0 || error == nil, let observed = connectSeconds else {
            throw TimingMismatch("expected connect() to succeed after \(expected) s, but it failed: \(standardError)")
        }
        try (tolerance ?? self.tolerance).assertTime("connect()", expected: expected, observed: observed, timers: timers ?? [expected])
    }

    /// Throws unless the client failed with `errno` ("ETIMEDOUT") `after` seconds into connect().
    public func assertFailed(_ errno: String, after expected: Double? = nil, timers: [Double]? = nil, tolerance: TimingTolerance? = nil) throws {
        guard error == errno else {
            throw TimingMismatch("expected the client to fail with \(errno), but it reported \(error ?? "success") (exit \(status)): \(standardError)")
        }
        guard let expected else { return }
        guard let observed = connectSeconds else { throw TimingMismatch("no connect time in the client's report") }
        try (tolerance ?? self.tolerance).assertTime(errno, expected: expected, observed: observed, timers: timers ?? [expected])
    }
}

/// An assertion about the kernel's behaviour that did not hold; the message says what and by how much.
public struct TimingMismatch: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension TimingTolerance {
    /// Throws `TimingMismatch` with packetdrill's sentence when `observed` is out of tolerance.
    public func assertTime(_ what: String, expected: Double, observed: Double, timers: [Double]) throws {
        if let failure = check(what, expected: expected, observed: observed, timers: timers) {
            throw TimingMismatch(failure)
        }
    }
}
