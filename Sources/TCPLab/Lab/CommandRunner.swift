import Foundation

/// Runs a program to completion with a deadline, capturing its output. Used for the few things
/// a lab delegates to standard tools (`ip netns`, `sysctl` files, tcpdump), never for nftables.
public enum CommandRunner {
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
        public var succeeded: Bool { status == 0 }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var result: Result
        public var description: String {
            let detail = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(command.joined(separator: " ")) exited with \(result.status)\(detail.isEmpty ? "" : ": \(detail)")"
        }
    }

    /// Runs `arguments[0]` (searched in PATH) and waits at most `timeout` seconds, then kills it.
    @discardableResult
    public static func run(_ arguments: [String], timeout: Double = 30, check: Bool = true) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes while the program runs, so a chatty program never blocks on a full pipe.
        let collected = CollectedOutput()
        let group = DispatchGroup()
        for (pipe, isError) in [(output, false), (error, true)] {
            group.enter()
            // A thread of its own, not the global queue: its pool has about one thread per core, and
            // LabProcess readers block there for a process's whole life, so a read queued behind them
            // waited up to 1.5 s (seen with four peers on two cores).
            Thread.detachNewThread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(data, isError: isError)
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(2000) }
        if process.isRunning {
            process.terminate()
            usleep(100_000)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        group.wait()
        let result = Result(status: process.terminationStatus, standardOutput: collected.output, standardError: collected.error)
        if check, !result.succeeded { throw Failure(command: arguments, result: result) }
        return result
    }
}

private final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var outputData = Data()
    private var errorData = Data()
    func set(_ data: Data, isError: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if isError { errorData = data } else { outputData = data }
    }
    var output: String { lock.withLock { String(decoding: outputData, as: UTF8.self) } }
    var error: String { lock.withLock { String(decoding: errorData, as: UTF8.self) } }
}
