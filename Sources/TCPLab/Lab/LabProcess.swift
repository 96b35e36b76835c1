import Foundation
import TCPLabSystem

/// A program a lab started in the background: its output is collected, and it is always
/// stopped (SIGTERM, then SIGKILL) when the lab is done with it. It is a process of its own, or
/// (`LabProcess(inProcess:)`) a peer run on a thread of this process inside the lab's namespace.
public final class LabProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let error = Pipe()
    private let lock = NSLock()
    private var outputData = Data()
    private var errorData = Data()
    private let readers = DispatchGroup()
    public let arguments: [String]
    /// Set for a peer on a thread of this process.
    private let thread: InProcessProgram?

    public init(_ arguments: [String]) throws {
        self.arguments = arguments
        thread = nil
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (pipe, isError) in [(output, false), (error, true)] {
            readers.enter()
            let handle = pipe.fileHandleForReading
            // A thread of its own: this read blocks for the process's whole life, and the global
            // queue's pool (about one thread per core) would starve every later reader.
            Thread.detachNewThread { [self] in
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    lock.withLock { if isError { errorData.append(chunk) } else { outputData.append(chunk) } }
                }
                readers.leave()
            }
        }
    }

    /// Runs `body` on a thread inside the namespace `netns` (a name `ip netns add` made). The body
    /// gets the program's handle (to write its output, and to see a stop request) and returns
    /// its exit status.
    init(inProcess arguments: [String], netns: String, _ body: @escaping @Sendable (InProcessProgram) throws -> Int32) throws {
        self.arguments = arguments
        let program = try InProcessProgram()
        thread = program
        program.output = { [unowned self] text, isError in
            lock.withLock { if isError { errorData.append(Data(text.utf8)) } else { outputData.append(Data(text.utf8)) } }
        }
        program.start(name: arguments.first ?? "peer") {
            try NetworkNamespace.enter(named: netns)
            return try body(program)
        }
    }

    deinit { stop() }

    /// The process's id (this process's own for a peer on a thread).
    public var pid: Int32 { thread == nil ? process.processIdentifier : getpid() }
    public var isRunning: Bool { thread?.isRunning ?? process.isRunning }

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
            if !isRunning { return predicate(self) }
            usleep(2000)
        }
        return predicate(self)
    }

    /// Sends a signal (SIGINT, SIGTERM, SIGKILL). A peer on a thread takes any of them as "stop".
    public func signal(_ number: Int32) {
        if let thread { thread.requestStop(); return }
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits for exit at most `timeout` seconds; returns the exit status, or nil if still running.
    @discardableResult
    public func wait(timeout: Double) -> Int32? {
        if let thread { return thread.wait(timeout: timeout) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(2000) }
        guard !process.isRunning else { return nil }
        readers.wait()
        return process.terminationStatus
    }

    /// SIGTERM, a grace period, then SIGKILL; waits for the output readers.
    public func stop(grace: Double = 2) {
        if let thread {
            thread.requestStop()
            _ = thread.wait(timeout: grace + 5)
            return
        }
        if process.isRunning {
            signal(SIGTERM)
            if wait(timeout: grace) == nil {
                signal(SIGKILL)
                _ = wait(timeout: 5)
            }
        }
    }
}
