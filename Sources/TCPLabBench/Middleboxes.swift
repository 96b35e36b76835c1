import ArgumentParser
import TCPLabSystem

/// The programs that sit between a client and a server in the relay measurements.
enum Middlebox {
    /// faultproxy relaying `listen` → `upstream` with a fault that never matches on the data path
    /// (a server's RST), so every byte takes the relay's path and no rule drops anything.
    static func faultproxy(_ path: String, listen: UInt16, upstream: UInt16) throws -> ChildProcess {
        let child = try ChildProcess([path, "--drop", "rst", "--from", "server",
                                      "--listen", "127.0.0.1:\(listen)", "--upstream", "127.0.0.1:\(upstream)"])
        guard child.waitForError(containing: "Ctrl-C to stop.", timeoutSeconds: 10) else {
            child.stop()
            throw ValidationError("faultproxy did not start: \(child.errorText)")
        }
        return child
    }

    /// socat as a user would run it: defaults, a fork per connection.
    static func socat(listen: UInt16, upstream: UInt16) throws -> ChildProcess {
        let child = try ChildProcess(["socat", "-d", "-d", "TCP-LISTEN:\(listen),bind=127.0.0.1,reuseaddr,fork,backlog=1024",
                                      "TCP:127.0.0.1:\(upstream)"])
        guard child.waitForError(containing: "listening on", timeoutSeconds: 10) else {
            child.stop()
            throw ValidationError("socat did not start: \(child.errorText)")
        }
        return child
    }
}
