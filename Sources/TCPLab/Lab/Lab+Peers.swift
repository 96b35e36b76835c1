import Foundation
import TCPLabEcho

/// The lab's echo peers, in-process or as programs, and any other program on a host.
extension Lab {

    /// How the lab runs its echo peers.
    public enum Peers: Sendable {
        /// On threads of this process, inside the lab's namespaces: nothing to build or find.
        case inProcess
        /// The echo-server and echo-client executables (`LabBinaries`): for what needs a
        /// process of its own (SIGKILL, `--max-files`, `--close never`).
        case executables
    }

    /// Starts echo-server (with `--json`) and waits until it listens.
    @discardableResult
    public func echoServer(port: UInt16? = nil, _ options: [String] = []) throws -> LabProcess {
        let arguments = peerArguments(port, options)
        let peer: LabProcess
        switch peers {
        case .executables:
            peer = try start([try LabBinaries.path("echo-server")] + arguments)
        case .inProcess:
            let command = try EchoServerCommand.parse(arguments)
            peer = try startInProcess(["echo-server"] + arguments, on: .server) { program in
                try command.serve(until: program.stop, output: program.write, errors: program.writeError)
                return 0
            }
        }
        try peer.awaitListening()
        return peer
    }

    /// Runs echo-client (with `--json`) to completion and returns its report.
    public func echoClient(port: UInt16? = nil, _ options: [String] = [], timeout: Double = 600) throws -> ClientResult {
        let started = Date()
        switch peers {
        case .executables:
            let result = try client.namespace.run([try LabBinaries.path("echo-client")] + peerArguments(port, options), timeout: timeout, check: false)
            return ClientResult(status: result.status, standardOutput: result.standardOutput, standardError: result.standardError,
                                wallSeconds: Date().timeIntervalSince(started), tolerance: tolerance)
        case .inProcess:
            var result = try clientResult(try startClient(port: port, options), timeout: timeout)
            result.wallSeconds = Date().timeIntervalSince(started)
            return result
        }
    }

    /// Starts echo-client in the background (for clients that hold, or several at once).
    public func startClient(port: UInt16? = nil, _ options: [String] = []) throws -> LabProcess {
        let arguments = peerArguments(port, options)
        switch peers {
        case .executables:
            return try start([try LabBinaries.path("echo-client")] + arguments, on: .client)
        case .inProcess:
            let command = try EchoClientCommand.parse(arguments)
            return try startInProcess(["echo-client"] + arguments, on: .client) { program in
                let (status, report, error) = command.runInProcess()
                if let report { program.write(report) }
                if let error { program.writeError(error) }
                return status
            }
        }
    }

    /// The result of a client started with `startClient`, once it has exited.
    public func clientResult(_ process: LabProcess, timeout: Double = 600) throws -> ClientResult {
        guard let status = process.wait(timeout: timeout) else { throw LabError.timedOut("echo-client still running after \(timeout) s") }
        return ClientResult(status: status, standardOutput: process.standardOutput, standardError: process.standardError,
                            wallSeconds: 0, tolerance: tolerance)
    }

    /// Runs any program on the client's host (or the server's, or the router's) to completion:
    /// `lab.run(["curl", "-sS", "http://\(lab.serverAddress):\(lab.port)/"])`. Its output and status
    /// come back; a non-zero status is not an error here.
    @discardableResult
    public func run(_ arguments: [String], on end: End = .client, timeout: Double = 60) throws -> CommandRunner.Result {
        try host(end).namespace.run(arguments, timeout: timeout, check: false)
    }

    /// What every echo peer is given: JSON output, the server's address and the port (the lab's by default).
    private func peerArguments(_ port: UInt16?, _ options: [String]) -> [String] {
        ["--json", "--host", serverAddress, "--port", String(port ?? self.port)] + options
    }

    /// A peer on a thread inside an end's namespace; it is stopped with the lab.
    private func startInProcess(_ arguments: [String], on end: End,
                                _ body: @escaping @Sendable (InProcessProgram) throws -> Int32) throws -> LabProcess {
        let process = try LabProcess(inProcess: arguments, netns: host(end).namespace.name, body)
        lock.withLock { processes.append(process) }
        return process
    }
}
