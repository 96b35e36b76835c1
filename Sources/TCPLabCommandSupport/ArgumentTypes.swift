import ArgumentParser
import TCPLabSystem

// The command-line spelling of the system types, so every executable reads "2s" and "1,1,3" alike.

extension Keepalive: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

/// A duration on the command line ("300ms", "2s", "1.5s").
public struct DurationArgument: ExpressibleByArgument, Sendable, Hashable {
    public let duration: Duration
    public init(_ duration: Duration) { self.duration = duration }
    public init?(argument: String) {
        guard let duration = try? Duration(parsing: argument) else { return nil }
        self.duration = duration
    }
    public var defaultValueDescription: String { "\(duration.totalSeconds)s" }
}

/// Validates a port given as an option; ArgumentParser reports a failure as a one-line usage error.
public func validatePort(_ port: Int, option: String) throws {
    guard (1...65535).contains(port) else {
        throw ValidationError("\(option) \(port) is out of range 1-65535")
    }
}
