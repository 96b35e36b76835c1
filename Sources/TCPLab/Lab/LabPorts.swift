import Foundation

/// Server ports for the labs of one process. Tracepoints are global — every namespace's
/// `sock:inet_sock_set_state` and `tcp:*` events reach every trace instance, and carry no
/// namespace — so two labs running at once (Swift Testing runs tests in parallel) tell their
/// events apart by port: each `Lab` takes a block of `blockSize` ports of its own (its server
/// port `Lab.port`, and `Lab.port(offset)` for a second or third listener), and faultproxy's
/// trace filter, NFLOG group and rules follow it. The first lab of a process gets 7000, so a
/// single `tcplab run` looks as it always did. Blocks stay below the ephemeral range (32768).
public enum LabPorts {
    public static let first: UInt16 = 7000
    public static let blockSize: UInt16 = 16
    static let blocks = (32768 - Int(first)) / Int(blockSize)

    private static let lock = NSLock()
    nonisolated(unsafe) private static var handedOut = 0

    /// The next block's first port; after `blocks` labs it starts over.
    public static func next() -> UInt16 {
        lock.withLock {
            defer { handedOut += 1 }
            return first + UInt16(handedOut % blocks) * blockSize
        }
    }
}

extension Lab {
    /// Another port of this lab's block (`offset` below `LabPorts.blockSize`), for a second listener.
    public func port(_ offset: UInt16) -> UInt16 {
        precondition(offset < LabPorts.blockSize, "port offset \(offset) is outside the lab's block of \(LabPorts.blockSize)")
        return port + offset
    }
}
