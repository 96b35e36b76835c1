/// A socket with one owner, closed when the owner goes away. `~Copyable`, so the compiler checks
/// what cleanup ladders checked by hand: an early `throw` closes whatever was opened so far, an
/// owner moved into a longer-lived one cannot be used or closed twice, and `release()` hands the
/// bare `Socket` on, unclosed, to code that closes it itself.
public struct OwnedSocket: ~Copyable {
    public let socket: Socket

    public init(_ socket: Socket) { self.socket = socket }

    /// Gives up ownership without closing: the caller now closes the socket.
    public consuming func release() -> Socket {
        let socket = self.socket
        discard self
        return socket
    }

    deinit { socket.close() }
}
