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
        let port = port ?? self.port
        let arguments = ["--json", "--host", serverAddress, "--port", String(port)] + options
        let peer: LabProcess
        switch peers {
        case .executables:
            peer = try start([try LabBinaries.path("echo-server")] + arguments)
        case .inProcess:
            let command = try EchoServerCommand.parse(arguments)
            peer = try LabProcess(inProcess: ["echo-server"] + arguments, netns: server.namespace.name) { program in
                try command.serve(until: program.stop, output: program.write, errors: program.writeError)
                return 0
            }
            lock.withLock { processes.append(peer) }
        }
        try peer.awaitListening()
        return peer
    }

    /// Runs echo-client (with `--json`) to completion and returns its report.
    public func echoClient(port: UInt16? = nil, _ options: [String] = [], timeout: Double = 600) throws -> ClientResult {
        let port = port ?? self.port
        let started = Date()
        let arguments = ["--json", "--host", serverAddress, "--port", String(port)] + options
        switch peers {
        case .executables:
            let result = try client.namespace.run([try LabBinaries.path("echo-client")] + arguments, timeout: timeout, check: false)
            return ClientResult(status: result.status, standardOutput: result.standardOutput, standardError: result.standardError,
                                wallSeconds: Date().timeIntervalSince(started), tolerance: tolerance)
        case .inProcess:
            let command = try EchoClientCommand.parse(arguments)
            let (status, report, error) = try inside(.client) { command.runInProcess() }
            return ClientResult(status: status, standardOutput: report.map { $0 + "\n" } ?? "", standardError: error.map { $0 + "\n" } ?? "",
                                wallSeconds: Date().timeIntervalSince(started), tolerance: tolerance)
        }
    }

    /// Starts echo-client in the background (for clients that hold, or several at once).
    public func startClient(port: UInt16? = nil, _ options: [String] = []) throws -> LabProcess {
        let port = port ?? self.port
        let arguments = ["--json", "--host", serverAddress, "--port", String(port)] + options
        switch peers {
        case .executables:
            return try start([try LabBinaries.path("echo-client")] + arguments, on: .client)
        case .inProcess:
            let command = try EchoClientCommand.parse(arguments)
            let process = try LabProcess(inProcess: ["echo-client"] + arguments, netns: client.namespace.name) { program in
                let (status, report, error) = command.runInProcess()
                if let report { program.write(report) }
                if let error { program.writeError(error) }
                return status
            }
            lock.withLock { processes.append(process) }
            return process
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
}
