import Synchronization

/// Every proxy by name, and the operations of toxiproxy's API on them. One lock orders all API
/// changes (toxiproxy's collection lock does the same); data never takes it.
public final class ProxyRegistry: Sendable {
    private let proxies = Mutex<[String: ManagedProxy]>([:])
    private let segmentFactory: @Sendable (String) -> SegmentToxicInstaller

    init(segmentFactory: @escaping @Sendable (String) -> SegmentToxicInstaller) {
        self.segmentFactory = segmentFactory
    }

    /// GET /proxies: by name (Go writes map keys sorted).
    public func list() -> [ProxyBody] {
        proxies.withLock { $0.values.map(\.body) }.sorted { $0.name < $1.name }
    }

    public func proxy(_ name: String) throws(APIError) -> ProxyBody {
        try withProxy(name) { $0.body }
    }

    public func create(_ request: ProxyRequest) throws(APIError) -> ProxyBody {
        try proxies.withLock { (all: inout [String: ManagedProxy]) throws(APIError) -> ProxyBody in
            guard all[request.name] == nil else { throw .proxyExists }
            let proxy = ManagedProxy(name: request.name, listen: request.listen, upstream: request.upstream,
                                     segments: segmentFactory(request.name))
            if request.enabled { try proxy.start() }
            all[request.name] = proxy
            return proxy.body
        }
    }

    /// POST /populate: each proxy created, or replaced when its listen or upstream differ.
    /// Stops at the first failure, returning the proxies made so far with the error.
    public func populate(_ requests: [ProxyRequest]) -> (proxies: [ProxyBody], error: APIError?) {
        proxies.withLock { all in
            var made: [ProxyBody] = []
            for request in requests {
                if let existing = all[request.name] {
                    if existing.listen == request.listen, existing.upstream == request.upstream {
                        made.append(existing.body)
                        continue
                    }
                    existing.shutdown()
                    all[request.name] = nil
                }
                let proxy = ManagedProxy(name: request.name, listen: request.listen, upstream: request.upstream,
                                         segments: segmentFactory(request.name))
                do throws(APIError) {
                    if request.enabled { try proxy.start() }
                } catch {
                    return (made, error)
                }
                all[request.name] = proxy
                made.append(proxy.body)
            }
            return (made, nil)
        }
    }

    public func update(_ name: String, _ update: ProxyUpdate) throws(APIError) -> ProxyBody {
        try withProxy(name) { (proxy) throws(APIError) in
            try proxy.change(listen: update.listen, upstream: update.upstream)
            if let enabled = update.enabled, enabled != proxy.enabled {
                if enabled { try proxy.start() } else { proxy.stop() }
            }
            return proxy.body
        }
    }

    public func delete(_ name: String) throws(APIError) {
        try proxies.withLock { (all: inout [String: ManagedProxy]) throws(APIError) in
            guard let proxy = all.removeValue(forKey: name) else { throw .proxyNotFound }
            proxy.shutdown()
        }
    }

    /// POST /reset: every proxy enabled, every toxic removed. A proxy whose port is now taken
    /// stays disabled (toxiproxy logs and goes on).
    public func reset() {
        proxies.withLock { all in
            for proxy in all.values {
                try? proxy.board.replaceAll { $0.removeAll() }
                try? proxy.segments.apply([])
                proxy.toxicsChanged()
                try? proxy.start()
            }
        }
    }

    /// Server exit: every listener and connection closed, every rule removed.
    public func shutdownAll() {
        proxies.withLock { all in
            for proxy in all.values { proxy.shutdown() }
            all.removeAll()
        }
    }

    // MARK: toxics

    public func toxics(_ name: String) throws(APIError) -> [ToxicBody] {
        try withProxy(name) { $0.board.listed.map(\.body) }
    }

    public func toxic(_ name: String, _ toxicName: String) throws(APIError) -> ToxicBody {
        try withProxy(name) { (proxy) throws(APIError) in
            guard let toxic = proxy.board.all.first(where: { $0.name == toxicName }) else { throw .toxicNotFound }
            return toxic.body
        }
    }

    func addToxic(_ name: String, _ toxic: Toxic) throws(APIError) -> ToxicBody {
        try withProxy(name) { (proxy) throws(APIError) in
            try proxy.board.replaceAll { (list) throws(APIError) in
                guard !list.contains(where: { $0.name == toxic.name }) else { throw .toxicExists }
                try proxy.segments.apply(list + [toxic])  // rules in before the answer; refused: nothing changes
                list.append(toxic)
            }
            proxy.toxicsChanged()
            return toxic.body
        }
    }

    func updateToxic(_ name: String, _ toxicName: String, _ patch: JSONValue) throws(APIError) -> ToxicBody {
        try withProxy(name) { (proxy) throws(APIError) in
            var updated: Toxic?
            try proxy.board.replaceAll { (list) throws(APIError) in
                guard let index = list.firstIndex(where: { $0.name == toxicName }) else { throw .toxicNotFound }
                var changed = list
                changed[index] = try list[index].patched(with: patch)
                try proxy.segments.apply(changed)
                list = changed
                updated = list[index]
            }
            proxy.toxicsChanged()
            return updated!.body
        }
    }

    func deleteToxic(_ name: String, _ toxicName: String) throws(APIError) {
        try withProxy(name) { (proxy) throws(APIError) in
            try proxy.board.replaceAll { (list) throws(APIError) in
                guard let index = list.firstIndex(where: { $0.name == toxicName }) else { throw .toxicNotFound }
                list.remove(at: index)
                try? proxy.segments.apply(list)
            }
            proxy.toxicsChanged()
        }
    }

    /// The proxy's counters and segment state, for /metrics, /timeline and /pcap.
    func managed(_ name: String) throws(APIError) -> ManagedProxy {
        try withProxy(name) { $0 }
    }

    func allManaged() -> [ManagedProxy] {
        proxies.withLock { Array($0.values) }.sorted { $0.name < $1.name }
    }

    private func withProxy<T>(_ name: String, _ body: (ManagedProxy) throws(APIError) -> T) throws(APIError) -> T {
        try proxies.withLock { (all: inout [String: ManagedProxy]) throws(APIError) -> T in
            guard let proxy = all[name] else { throw .proxyNotFound }
            return try body(proxy)
        }
    }
}
