/// The kernel time a log rule put into a segment's mark (`Action.stampedLog`: the low 32 bits
/// of `meta time`, ns since the epoch, as NFULA_MARK), made whole again.
///
/// NFLOG puts its own timestamp on a packet only at prerouting, input and forward
/// (`hooknum <= NF_INET_FORWARD` in nfnetlink_log.c); a host's own segments, logged at output,
/// come without one. The stamp is the kernel's clock at the rule, not the reader's: the reader's
/// clock, taken after the record arrived, only says which 2^32 ns (4.29 s) window it fell in.
/// That holds while the reader is less than 4.29 s behind the kernel, which a reader that keeps
/// up at all always is.
public struct KernelClockStamp: Sendable, Equatable {
    public static let window: Int64 = 1 << 32

    public var lowBits: UInt32

    public init(mark: UInt32?) { lowBits = mark ?? 0 }

    /// Nanoseconds since the epoch: the latest time at or before `readAt` whose low 32 bits are
    /// the stamp's.
    public func nanoseconds(readAt: Int64) -> Int64 {
        let candidate = (readAt & ~(Self.window - 1)) | Int64(lowBits)
        return candidate <= readAt ? candidate : candidate - Self.window
    }
}
