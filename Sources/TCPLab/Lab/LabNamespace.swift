import Foundation

/// A network namespace a lab makes for itself: only `lo`, up, with its own sysctls, conntrack and
/// nftables. Everything a lab runs inside it stays off the host's network. `delete()` removes it;
/// processes still inside are killed first so the namespace really goes away.
public final class LabNamespace: @unchecked Sendable {
    public let name: String
    private var deleted = false

    /// Names start with `tcplab-` so `faultproxy --cleanup` and people can spot leftovers.
    public init(prefix: String = "tcplab") throws {
        try Self.requireRoot()
        name = "\(prefix)-\(getpid())-\(Self.nextSerial())"
        try CommandRunner.run(["ip", "netns", "add", name])
        do {
            try CommandRunner.run(["ip", "-n", name, "link", "set", "lo", "up"])
        } catch {
            _ = try? CommandRunner.run(["ip", "netns", "delete", name])
            throw error
        }
    }

    deinit { delete() }

    /// Throws `LabError.needsRoot` when this process cannot make namespaces.
    public static func requireRoot() throws {
        guard geteuid() == 0 else {
            throw LabError.needsRoot("network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run as root, e.g. sudo")
        }
    }

    /// The command line that runs `arguments` inside this namespace.
    public func command(_ arguments: [String]) -> [String] { ["ip", "netns", "exec", name] + arguments }

    /// Runs a command inside the namespace and waits for it.
    @discardableResult
    public func run(_ arguments: [String], timeout: Double = 30, check: Bool = true) throws -> CommandRunner.Result {
        try CommandRunner.run(command(arguments), timeout: timeout, check: check)
    }

    /// Starts a command inside the namespace without waiting for it.
    public func spawn(_ arguments: [String]) throws -> LabProcess {
        try LabProcess(command(arguments))
    }

    /// Reads a sysctl as the namespace sees it ("net.ipv4.tcp_syn_retries").
    public func sysctl(_ key: String) throws -> String {
        try run(["cat", "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/")]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func sysctlInt(_ key: String) throws -> Int {
        let text = try sysctl(key)
        guard let value = Int(text) else { throw LabError.unexpected("sysctl \(key) is not a number: \(text)") }
        return value
    }

    /// Sets a per-namespace sysctl and reads it back (a value the kernel clamps shows as it is).
    @discardableResult
    public func setSysctl(_ key: String, _ value: String) throws -> String {
        try run(["sh", "-c", "echo '\(value)' > /proc/sys/\(key.replacingOccurrences(of: ".", with: "/"))"])
        return try sysctl(key)
    }

    /// Kills what still runs inside and deletes the namespace. Safe to call twice.
    public func delete() {
        guard !deleted else { return }
        deleted = true
        if let pids = try? CommandRunner.run(["ip", "netns", "pids", name], check: false).standardOutput {
            for pid in pids.split(whereSeparator: \.isNewline).compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? CommandRunner.run(["ip", "netns", "delete", name], check: false)
    }

    private static let serial = SerialCounter()
    private static func nextSerial() -> Int { serial.next() }
}

private final class SerialCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}

public enum LabError: Error, CustomStringConvertible {
    case needsRoot(String)
    case unexpected(String)
    case timedOut(String)

    public var description: String {
        switch self {
        case .needsRoot(let text), .unexpected(let text), .timedOut(let text): text
        }
    }
}
