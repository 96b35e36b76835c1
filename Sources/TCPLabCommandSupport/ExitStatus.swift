import ArgumentParser

/// The exit statuses the lab peers document in their help, so scripts and tests can tell failures apart.
public enum ExitStatus {
    /// Something else failed (a socket option, the listener, an unexpected errno).
    public static let failure = ExitCode(1)
    /// connect() failed: refused, timed out, unreachable.
    public static let connectFailed = ExitCode(2)
    /// The echo did not match what was sent (or the peer closed before echoing all of it).
    public static let wrongEcho = ExitCode(3)
    /// The connection broke after it was established (reset, timeout).
    public static let connectionBroken = ExitCode(4)
}
