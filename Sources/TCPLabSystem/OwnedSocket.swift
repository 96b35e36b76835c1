/// A socket with one owner, closed when the owner goes away. `~Copyable`, so the compiler checks
/// what cleanup ladders checked by hand: an early `throw` closes whatever was opened so far, an
/// owner moved into a longer-lived one cannot be used or closed twice, and an optional owner
/// set to nil closes it there and then.
public struct OwnedSocket: ~Copyable {
    public let socket: Socket

    public init(_ socket: Socket) { self.socket = socket }

    deinit { socket.close() }
}
