import TCPLabSystem
/// One TCP socket as sock_diag reports it (struct inet_diag_msg).
public struct TCPSocketDiagnostic: Hashable, Sendable {
    public var state: TCPState
    public var timer: SocketTimer
    /// Time until the timer fires, ms (0 without a timer).
    public var expiresMilliseconds: UInt32
    /// Retransmissions of the current segment (request sockets: SYN-ACK retransmissions;
    /// with the keepalive timer: probes sent).
    public var retransmits: UInt8
    public var local: InetEndpoint
    public var remote: InetEndpoint
    /// 0 for TIME_WAIT and request sockets, which have no file.
    public var inode: UInt32
    public var cookie: UInt64
    public var receiveQueue: UInt32
    public var sendQueue: UInt32
    public var uid: UInt32

    public init(
        state: TCPState, timer: SocketTimer, expiresMilliseconds: UInt32, retransmits: UInt8,
        local: InetEndpoint, remote: InetEndpoint, inode: UInt32, cookie: UInt64 = 0,
        receiveQueue: UInt32 = 0, sendQueue: UInt32 = 0, uid: UInt32 = 0
    ) {
        self.state = state
        self.timer = timer
        self.expiresMilliseconds = expiresMilliseconds
        self.retransmits = retransmits
        self.local = local
        self.remote = remote
        self.inode = inode
        self.cookie = cookie
        self.receiveQueue = receiveQueue
        self.sendQueue = sendQueue
        self.uid = uid
    }
}
