import Foundation

extension LabProcess {
    /// Waits until echo-server (started with `--json`) reports `listening`; otherwise stops it
    /// and throws with what it printed on stderr.
    public func awaitListening(timeout: Double = 10) throws {
        guard waitForOutput(timeout: timeout, { $0.contains("\"listening\"") }) else {
            stop()
            throw LabError.unexpected("echo-server did not start listening: \(standardError)")
        }
    }

    /// Waits until faultproxy (or `tcplab watch`) has its rules in and says "Ctrl-C to stop";
    /// otherwise stops it and throws with what it printed on stderr.
    public func awaitRulesInstalled(_ program: String = "faultproxy", timeout: Double = 10) throws {
        guard waitForError(timeout: timeout, { $0.contains("Ctrl-C to stop") }) else {
            stop()
            throw LabError.unexpected("\(program) did not start: \(standardError)")
        }
    }
}

extension LabNamespace {
    /// echo-server `--json` inside the namespace, listening when this returns.
    public func startEchoServer(_ arguments: [String] = []) throws -> LabProcess {
        let server = try spawn([try LabBinaries.path("echo-server"), "--json"] + arguments)
        try server.awaitListening()
        return server
    }
}
