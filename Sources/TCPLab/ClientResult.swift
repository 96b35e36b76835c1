import Foundation

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

    /// The report's keys: connect_ms, echo_ok, bytes, error, elapsed_ms, local, tcp_info.
    public var report: [String: Any] {
        guard let line = standardOutput.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return [:] }
        return object
    }

    /// The errno name of the failure ("ETIMEDOUT"), nil on success.
    public var error: String? { report["error"] as? String }
    public var echoOK: Bool { report["echo_ok"] as? Bool ?? false }
    /// From connect() to its return (success or failure), in seconds.
    public var connectSeconds: Double? { (report["connect_ms"] as? Double).map { $0 / 1000 } }
    public var elapsedSeconds: Double? { (report["elapsed_ms"] as? Double).map { $0 / 1000 } }
    /// The client's local address ("127.0.0.1:40000").
    public var local: String? { report["local"] as? String }
    /// TCP_INFO at the end: retransmits, total_retrans, rto (µs), rtt (µs), ...
    public var tcpInfo: [String: Any] { report["tcp_info"] as? [String: Any] ?? [:] }
    public var rttSeconds: Double? { (tcpInfo["rttMicroseconds"] as? Double ?? tcpInfo["rtt_us"] as? Double).map { $0 / 1_000_000 } }
    public var rtoSeconds: Double? { (tcpInfo["rtoMicroseconds"] as? Double ?? tcpInfo["rto_us"] as? Double).map { $0 / 1_000_000 } }

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
