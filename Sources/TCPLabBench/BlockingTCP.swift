import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// The few socket moves the measurements need, on blocking sockets (each measurement owns its threads).
enum BlockingTCP {
    static func listener(port: UInt16, host: String = "127.0.0.1", backlog: Int32 = 4096) throws -> Socket {
        let address = try SocketAddress(host: host, port: port)
        let socket = try Socket.tcp(address.family)
        try socket.setReuseAddress(true)
        try socket.bind(to: address)
        try socket.listen(backlog: backlog)
        return socket
    }

    static func connect(port: UInt16, host: String = "127.0.0.1", noDelay: Bool = false) throws -> Socket {
        let address = try SocketAddress(host: host, port: port)
        let socket = try Socket.tcp(address.family)
        do {
            try socket.connect(to: address)
            if noDelay { try setNoDelay(socket) }
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    static func setNoDelay(_ socket: Socket) throws {
        try socket.setOption(Int32(IPPROTO_TCP), TCP_NODELAY, Int32(1), name: "setsockopt(TCP_NODELAY)")
    }

    /// Reads exactly `buffer.count` bytes; false when the peer closed first.
    static func readExactly(_ socket: Socket, _ buffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        var offset = 0
        while offset < buffer.count {
            guard let count = try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...])), count > 0 else {
                return false
            }
            offset += count
        }
        return true
    }

    static func writeExactly(_ socket: Socket, _ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            offset += try socket.write(UnsafeRawBufferPointer(rebasing: buffer[offset...])) ?? 0
        }
    }

    /// A receive timeout, so a blocking read in a measurement thread cannot wait forever.
    static func setReceiveTimeout(_ socket: Socket, seconds: Int) throws {
        try socket.setOption(SOL_SOCKET, SO_RCVTIMEO, timeval(tv_sec: seconds, tv_usec: 0), name: "setsockopt(SO_RCVTIMEO)")
    }

    /// Starts a non-blocking connect and waits for its outcome; the milliseconds it took, or nil on
    /// timeout or refusal. The socket is closed either way.
    static func timedConnect(port: UInt16, host: String = "127.0.0.1", timeoutMilliseconds: Int32) throws -> Double? {
        let address = try SocketAddress(host: host, port: port)
        let socket = try Socket.tcp(address.family, nonBlocking: true)
        defer { socket.close() }
        let start = MonotonicClock.now()
        let pending: Bool
        do {
            try socket.connect(to: address)
            pending = false
        } catch {
            guard error.errno == .nowInProgress else { return nil }
            pending = true
        }
        if !pending { return MonotonicClock.millisecondsSince(start) }
        guard let ready = try? Poll.wait(socket.rawValue, for: .writable, timeoutMilliseconds: timeoutMilliseconds),
              !ready.isEmpty else { return nil }
        let elapsed = MonotonicClock.millisecondsSince(start)
        return try socket.pendingError() == nil ? elapsed : nil
    }
}
