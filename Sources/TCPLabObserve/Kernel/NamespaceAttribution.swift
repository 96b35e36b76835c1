import TCPLabNetlink

/// Tracepoints are global: the trace instance's port filter lets through every namespace's
/// sockets on the watched port (another `tcplab run` on 7000 at the same time, a container's
/// service). The segments NFLOG logged and the sockets sock_diag listed are this namespace's
/// own, so a tracepoint counts when its socket is one of those.
public struct SocketPairs: Sendable {
    private var pairs: Set<Pair> = []

    private struct Pair: Hashable {
        var local: InetEndpoint
        var remote: InetEndpoint
    }

    /// The sockets of both ends of every connection in `segments`, and every socket in `transitions`.
    public init(segments: [TimelineEvent], transitions: [SocketTransition]) {
        var seenConnections: Set<Int> = []
        for segment in segments where seenConnections.insert(segment.connection).inserted {
            guard let source = InetEndpoint(segment.source), let destination = InetEndpoint(segment.destination) else { continue }
            insert(local: source, remote: destination)
            insert(local: destination, remote: source)
        }
        for transition in transitions { insert(local: transition.local, remote: transition.remote) }
    }

    private mutating func insert(local: InetEndpoint, remote: InetEndpoint) {
        pairs.insert(Pair(local: local.unmapped, remote: remote.unmapped))
    }

    public func contains(local: InetEndpoint, remote: InetEndpoint) -> Bool {
        pairs.contains(Pair(local: local.unmapped, remote: remote.unmapped))
    }
}

extension Array where Element == KernelEvent {
    /// The events of this namespace's own connections (`SocketPairs`), connects given their ports
    /// first (`attributingConnectsToTheirPorts`). A listener's own changes (CLOSE → LISTEN and back)
    /// are left out: a listener on the same address and port in another namespace looks the same,
    /// and sock_diag, which is per namespace, already shows the listener.
    public func ownedBy(_ sockets: SocketPairs) -> [KernelEvent] {
        attributingConnectsToTheirPorts().filter { $0.remote.port != 0 && sockets.contains(local: $0.local, remote: $0.remote) }
    }
}

extension InetEndpoint {
    /// An IPv4-mapped IPv6 endpoint ("[::ffff:127.0.0.1]:7000", a dual-stack socket's own view)
    /// as the IPv4 one its packets carry.
    var unmapped: InetEndpoint {
        let bytes = address.bytes
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF,
              let v4 = InetAddress(bytes: Array(bytes[12...])) else { return self }
        return InetEndpoint(address: v4, port: port)
    }
}
