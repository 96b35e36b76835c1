/// Per-socket keepalive: first probe after `idle` s of silence, then every `interval` s, give up after `count`.
public struct Keepalive: Hashable, Sendable, Codable {
    public var idleSeconds: Int
    public var intervalSeconds: Int
    public var count: Int

    public init(idleSeconds: Int, intervalSeconds: Int, count: Int) {
        self.idleSeconds = idleSeconds
        self.intervalSeconds = intervalSeconds
        self.count = count
    }

    /// Parses "IDLE,INTERVAL,COUNT" in whole seconds (the kernel's unit for these options).
    public init(parsing text: String) throws(KeepaliveParseError) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let idle = parts[0], let interval = parts[1], let count = parts[2] else {
            throw KeepaliveParseError(description: "keepalive must be IDLE,INTERVAL,COUNT in whole seconds (e.g. 1,1,3), got '\(text)'")
        }
        // The kernel's limits: TCP_KEEPIDLE/KEEPINTVL 1...32767 s, TCP_KEEPCNT 1...127.
        guard (1...32767).contains(idle), (1...32767).contains(interval), (1...127).contains(count) else {
            throw KeepaliveParseError(description: "keepalive out of range: IDLE and INTERVAL 1-32767 s, COUNT 1-127, got '\(text)'")
        }
        self.init(idleSeconds: idle, intervalSeconds: interval, count: count)
    }
}

public struct KeepaliveParseError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
