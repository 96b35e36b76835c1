import Synchronization

/// A proxy's toxics, shared by the API (which changes them) and every pump (which reads them).
/// Pumps check `version` on each turn of their loop and re-read the list only when it moved;
/// a change also wakes every live connection, so toxics take effect at once, as in toxiproxy.
final class ToxicBoard: Sendable {
    private let toxics = Mutex<[Toxic]>([])
    let version = Atomic<UInt64>(0)

    var all: [Toxic] { toxics.withLock { $0 } }

    /// This stream's toxics in the order they were added (toxiproxy's chain order).
    func chain(_ stream: ToxicStream) -> (version: UInt64, toxics: [Toxic]) {
        toxics.withLock { list in (version.load(ordering: .acquiring), list.filter { $0.stream == stream }) }
    }

    /// toxiproxy lists the upstream chain, then the downstream one.
    var listed: [Toxic] {
        let list = all
        return list.filter { $0.stream == .upstream } + list.filter { $0.stream == .downstream }
    }

    func replaceAll(_ update: (inout [Toxic]) throws(APIError) -> Void) throws(APIError) {
        try toxics.withLock { (list: inout [Toxic]) throws(APIError) in
            try update(&list)
            version.add(1, ordering: .releasing)
        }
    }
}

/// Bytes and connections of one proxy, for GET /metrics.
final class ProxyCounters: Sendable {
    let upstreamBytes = Atomic<UInt64>(0)
    let downstreamBytes = Atomic<UInt64>(0)
    let accepted = Atomic<UInt64>(0)
    let open = Atomic<Int>(0)
    let upstreamFailures = Atomic<UInt64>(0)

    func add(_ stream: ToxicStream, _ bytes: Int) {
        if stream == .upstream { upstreamBytes.add(UInt64(bytes), ordering: .relaxed) } else { downstreamBytes.add(UInt64(bytes), ordering: .relaxed) }
    }
}
