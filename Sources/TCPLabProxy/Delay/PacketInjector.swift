import SystemPackage
import TCPLabFault
import TCPLabSystem

#if canImport(Glibc)
import Glibc
#endif

/// Sends whole IP packets as they are, header included: how a duplicate's copy re-enters the
/// stack. NFQUEUE cannot clone a packet (a verdict ends it), so the original is accepted and the
/// copy is sent later from a raw socket: IPPROTO_RAW implies IP_HDRINCL for IPv4 and, on Linux,
/// for IPv6 too. The kernel only fills in a zero IPv4 id and the IPv4 header checksum; the TCP
/// checksum is the original's (the queue computed it, since it was bound without F_GSO).
/// The copy takes the local path (OUTPUT, then the loopback or veth, then PREROUTING), so it
/// meets the fault table again: it carries `FaultPlan.copyMark` (SO_MARK), which the table's
/// copy rules log and let pass. (The engine still knows its fingerprint, should a path lose the mark.)
final class PacketInjector {
    private var sockets: [Int32: Int32] = [:]

    deinit {
        for descriptor in sockets.values { _ = Glibc.close(descriptor) }
    }

    /// Sends `packet` (from its network header on) to its own destination address.
    func send(_ packet: [UInt8]) throws(SystemCallError) {
        guard let version = packet.first.map({ $0 >> 4 }), version == 4 || version == 6,
              packet.count >= (version == 4 ? 20 : 40)
        else {
            throw SystemCallError(.invalidArgument, call: "sendto(raw)", subject: "not an IPv4/IPv6 packet (\(packet.count) bytes)")
        }
        let domain = version == 4 ? AF_INET : AF_INET6
        let descriptor = try socket(domain)
        var storage = sockaddr_storage()
        let length: Int
        if version == 4 {
            length = withUnsafeMutableBytes(of: &storage) { raw in
                let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                address.pointee.sin_family = sa_family_t(AF_INET)
                withUnsafeMutableBytes(of: &address.pointee.sin_addr) { $0.copyBytes(from: packet[16..<20]) }
                return MemoryLayout<sockaddr_in>.size
            }
        } else {
            length = withUnsafeMutableBytes(of: &storage) { raw in
                let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                address.pointee.sin6_family = sa_family_t(AF_INET6)
                withUnsafeMutableBytes(of: &address.pointee.sin6_addr) { $0.copyBytes(from: packet[24..<40]) }
                return MemoryLayout<sockaddr_in6>.size
            }
        }
        let sent = try withUnsafePointer(to: &storage) { pointer throws(SystemCallError) -> Int in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(SystemCallError) -> Int in
                try retryingEINTR("sendto(raw)", subject: "copy of \(packet.count) bytes") {
                    packet.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, 0, address, socklen_t(length)) }
                }
            }
        }
        if sent != packet.count {
            throw SystemCallError(.messageTooLong, call: "sendto(raw)", subject: "sent \(sent) of \(packet.count) bytes")
        }
    }

    /// One raw socket per family, opened on first use (so IPv4-only labs never open an IPv6 one).
    private func socket(_ domain: Int32) throws(SystemCallError) -> Int32 {
        if let descriptor = sockets[domain] { return descriptor }
        let descriptor = try retryingEINTR("socket(SOCK_RAW, IPPROTO_RAW)") {
            Glibc.socket(domain, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW))
        }
        var mark = FaultPlan.copyMark
        guard setsockopt(descriptor, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
            let error = SystemCallError(Errno(rawValue: errno), call: "setsockopt(SO_MARK)", subject: "raw socket for copies")
            _ = Glibc.close(descriptor)
            throw error
        }
        sockets[domain] = descriptor
        return descriptor
    }
}
