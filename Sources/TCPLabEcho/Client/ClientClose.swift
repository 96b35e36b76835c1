import ArgumentParser

/// Who closes the connection after the echo, and how.
enum ClientClose: String, ExpressibleByArgument, CaseIterable {
    /// The client closes right after the last echo (the client is the active closer).
    case first
    /// Wait for the server to close first (read until EOF), then close.
    case waitPeer = "wait-peer"
    /// shutdown(SHUT_WR), read until the server closes, then close.
    case shutdown
    /// Never close: hold the connection until SIGINT/SIGTERM (the kernel closes it at exit).
    case never
}
