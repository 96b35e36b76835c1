import TCPLabSystem

extension Array where Element == KernelEvent {
    /// The same events with each connect's first state change given its socket's port.
    ///
    /// tcp_v4_connect sets SYN_SENT before inet_hash_connect picks the ephemeral port, so the
    /// tracepoint reports `CLOSE → SYN_SENT` with source port 0 (measured: `sport=0 dport=7999`,
    /// then `sport=35098 … SYN_SENT → ESTABLISHED` 87 µs later). Left as it is, that event looks
    /// like a socket of its own, and a state path merged over a side's sockets shows a stray
    /// SYN_SENT. The port is the one of the next event that leaves SYN_SENT (or retransmits in
    /// it) with the same source address and peer.
    public func attributingConnectsToTheirPorts() -> [KernelEvent] {
        var events = self
        for index in events.indices where events[index].isUnboundConnect {
            let connect = events[index]
            let owner = events[(index + 1)...].first {
                $0.local.port != 0 && $0.local.address == connect.local.address && $0.remote == connect.remote
                    && ($0.oldState == .synSent || $0.newState == .synSent)
            }
            if let owner { events[index].local.port = owner.local.port }
        }
        return events
    }
}

extension KernelEvent {
    /// `CLOSE → SYN_SENT` before the connect has a port.
    var isUnboundConnect: Bool { name == .stateChange && newState == .synSent && local.port == 0 }

    /// The socket's birth: a connect (`CLOSE → SYN_SENT`) or a passive open (`LISTEN → SYN_RECV`),
    /// after which the tracepoints have its whole life.
    public var opensSocket: Bool {
        name == .stateChange && (oldState == .close || oldState == .listen) && newState != .listen
    }
}
