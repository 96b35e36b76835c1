#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address with a port, as the kernel takes it (`sockaddr_in` / `sockaddr_in6`).
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case ipv4, ipv6 }

    public let host: String
    public let port: UInt16
    public let family: Family
    /// The address bytes in network order (4 or 16).
    public let addressBytes: [UInt8]

    /// Parses a numeric host ("127.0.0.1", "::1", "[::1]") or "localhost". Names are not resolved:
    /// a lab names its loopback addresses exactly.
    public init(host: String, port: UInt16) throws(SocketAddressError) {
        var literal = host
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = String(literal.dropFirst().dropLast()) }
        if literal == "localhost" { literal = "127.0.0.1" }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            family = .ipv4
            addressBytes = Self.bytes(of: v4)
        } else if inet_pton(AF_INET6, literal, &v6) == 1 {
            family = .ipv6
            addressBytes = Self.bytes(of: v6)
        } else {
            throw SocketAddressError("not a numeric IPv4 or IPv6 address: \(host)")
        }
        self.host = literal
        self.port = port
    }

    /// Parses "HOST:PORT", "[V6]:PORT", or a bare "PORT" (then `defaultHost`).
    public init(parsing text: String, defaultHost: String = "127.0.0.1") throws(SocketAddressError) {
        if Int(text) != nil {
            try self.init(host: defaultHost, port: Self.parsePort(text))
            return
        }
        guard let colon = text.lastIndex(of: ":") else {
            throw SocketAddressError("expected HOST:PORT or PORT, got \(text)")
        }
        let hostPart = String(text[..<colon])
        let portPart = String(text[text.index(after: colon)...])
        // A bare IPv6 literal ("::1") has colons but no port.
        if hostPart.contains(":"), !hostPart.hasPrefix("[") {
            throw SocketAddressError("write an IPv6 address with a port as [ADDR]:PORT, got \(text)")
        }
        try self.init(host: hostPart, port: Self.parsePort(portPart))
    }

    public static func parsePort(_ text: String) throws(SocketAddressError) -> UInt16 {
        guard let value = Int(text) else { throw SocketAddressError("port is not a number: \(text)") }
        guard (1...65535).contains(value) else { throw SocketAddressError("port out of range 1-65535: \(value)") }
        return UInt16(value)
    }

    /// Reads the address the kernel filled in (accept, getsockname, getpeername).
    public init(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            family = .ipv6
            addressBytes = Self.bytes(of: sin6.sin6_addr)
            port = UInt16(bigEndian: sin6.sin6_port)
        default:
            let sin = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            family = .ipv4
            addressBytes = Self.bytes(of: sin.sin_addr)
            port = UInt16(bigEndian: sin.sin_port)
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        addressBytes.withUnsafeBytes { raw in
            _ = inet_ntop(domain, raw.baseAddress, &text, socklen_t(text.count))
        }
        host = String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var domain: Int32 { family == .ipv4 ? AF_INET : AF_INET6 }

    /// "127.0.0.1:7000" or "[::1]:7000".
    public var description: String { family == .ipv4 ? "\(host):\(port)" : "[\(host)]:\(port)" }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemCallError) -> R) throws(SystemCallError) -> R {
        var storage = sockaddr_storage()
        let length = switch family {
        case .ipv4:
            Self.store(sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: port.bigEndian,
                                   sin_addr: Self.value(addressBytes), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0)), in: &storage)
        case .ipv6:
            Self.store(sockaddr_in6(sin6_family: sa_family_t(AF_INET6), sin6_port: port.bigEndian, sin6_flowinfo: 0,
                                    sin6_addr: Self.value(addressBytes), sin6_scope_id: 0), in: &storage)
        }
        return try withUnsafePointer(to: &storage) { (pointer) throws(SystemCallError) -> R in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(SystemCallError) -> R in try body(sa, length) }
        }
    }

    // The C values' bytes both ways (in_addr, in6_addr are network order as they lie), and a
    // sockaddr_in / sockaddr_in6 put at the front of a sockaddr_storage with its length.
    private static func bytes<T>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    private static func value<T>(_ bytes: [UInt8]) -> T {
        precondition(bytes.count == MemoryLayout<T>.size, "\(bytes.count) address bytes for a \(T.self)")
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }

    private static func store<Address>(_ address: Address, in storage: inout sockaddr_storage) -> socklen_t {
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: address, as: Address.self) }
        return socklen_t(MemoryLayout<Address>.size)
    }
}

public struct SocketAddressError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
