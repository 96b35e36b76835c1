import Foundation

/// A program a lab started in the background: its output is collected, and it is always
/// stopped (SIGTERM, then SIGKILL) when the lab is done with it.
public final class LabProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let error = Pipe()
    private let lock = NSLock()
    private var outputData = Data()
    private var errorData = Data()
    private let readers = DispatchGroup()
    public let arguments: [String]

    public init(_ arguments: [String]) throws {
        self.arguments = arguments
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // A thread of its own per pipe: these reads block for the process's whole life, and on
        // Linux the global dispatch queue's few threads (about one per core) would all be taken
        // by a lab with several peers, stalling every other async block (CommandRunner's pipe
        // readers: one `ss` call took 14 s with nine peers running) until libdispatch adds threads.
        for (pipe, isError) in [(output, false), (error, true)] {
            readers.enter()
            let handle = pipe.fileHandleForReading
            Thread { [self] in
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    lock.withLock { if isError { errorData.append(chunk) } else { outputData.append(chunk) } }
                }
                readers.leave()
            }.start()
        }
    }

    deinit { stop() }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public var standardOutput: String { lock.withLock { String(decoding: outputData, as: UTF8.self) } }
    public var standardError: String { lock.withLock { String(decoding: errorData, as: UTF8.self) } }

    /// Waits until `predicate(stdout)` holds or `timeout` passes; returns whether it held.
    @discardableResult
    public func waitForOutput(timeout: Double, _ predicate: (String) -> Bool) -> Bool {
        waitFor(timeout: timeout) { predicate($0.standardOutput) }
    }

    /// Waits until `predicate(stderr)` holds or `timeout` passes; returns whether it held.
    @discardableResult
    public func waitForError(timeout: Double, _ predicate: (String) -> Bool) -> Bool {
        waitFor(timeout: timeout) { predicate($0.standardError) }
    }

    private func waitFor(timeout: Double, _ predicate: (LabProcess) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(self) { return true }
            if !process.isRunning { return predicate(self) }
            usleep(2000)
        }
        return predicate(self)
    }

    /// Sends a signal (SIGINT, SIGTERM, SIGKILL).
    public func signal(_ number: Int32) { if process.isRunning { kill(process.processIdentifier, number) } }

    /// Waits for exit at most `timeout` seconds; returns the exit status, or nil if still running.
    @discardableResult
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(2000) }
        guard !process.isRunning else { return nil }
        readers.wait()
        return process.terminationStatus
    }

    /// SIGTERM, a grace period, then SIGKILL; waits for the output readers.
    public func stop(grace: Double = 2) {
        if process.isRunning {
            signal(SIGTERM)
            if wait(timeout: grace) == nil {
                signal(SIGKILL)
                _ = wait(timeout: 5)
            }
        }
    }
}
