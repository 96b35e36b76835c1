import TCPLabSystem

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
}
