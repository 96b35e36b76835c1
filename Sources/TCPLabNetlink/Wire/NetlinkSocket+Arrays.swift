import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

extension NetlinkSocket {
    /// Sends one request built as bytes. (Array's withUnsafeBytes only rethrows untyped errors.)
    func send(bytes: [UInt8]) throws(SystemCallError) {
        var failure: SystemCallError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) { try send(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Receives one datagram into the front of `buffer`; returns its length.
    func receive(into buffer: inout [UInt8]) throws(SystemCallError) -> Int {
        var failure: SystemCallError?
        let count = buffer.withUnsafeMutableBytes { raw -> Int in
            do throws(SystemCallError) { return try receive(into: raw) } catch { failure = error; return 0 }
        }
        if let failure { throw failure }
        return count
    }

    /// Asks for a receive buffer of `bytes` so a burst is not lost while the reader is busy:
    /// SO_RCVBUFFORCE lets root exceed net.core.rmem_max; SO_RCVBUF otherwise. Returns what the kernel granted.
    func growReceiveBuffer(to bytes: Int) throws(SystemCallError) -> Int {
        let descriptor = fileDescriptor.rawValue
        var value = Int32(clamping: bytes)
        let size = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &value, size) != 0 {
            _ = try retryingEINTR("setsockopt(SO_RCVBUF)") { setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &value, size) }
        }
        var granted: Int32 = 0
        var length = size
        _ = try retryingEINTR("getsockopt(SO_RCVBUF)") { getsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &granted, &length) }
        return Int(granted)
    }
}
