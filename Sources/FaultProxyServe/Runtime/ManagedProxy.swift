import Synchronization
import TCPLabSystem

/// One proxy: its settings, its listener while enabled, its toxics and its live connections.
/// Settings change only under ProxyRegistry's lock; connections come and go on their own threads.
final class ManagedProxy: @unchecked Sendable {
    let name: String
    /// As asked ("127.0.0.1:0"); after the first start, the bound address (toxiproxy shows and
    /// re-binds the bound one, so disabling and enabling keeps the port).
    private(set) var listen: String
    private(set) var upstream: String
    private(set) var listener: ProxyListener?
    let board = ToxicBoard()
    let counters = ProxyCounters()
    let segments: SegmentToxicInstaller
    private let connections = Mutex<[ObjectIdentifier: ProxyConnection]>([:])

    init(name: String, listen: String, upstream: String, segments: SegmentToxicInstaller) {
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.segments = segments
    }

    var enabled: Bool { listener != nil }

    var body: ProxyBody {
        ProxyBody(name: name, listen: listen, upstream: upstream, enabled: enabled, toxics: board.listed.map(\.body))
    }

    /// Binds and starts accepting. Throws toxiproxy's 500 answer when the address is taken.
    func start() throws(APIError) {
        guard listener == nil else { return }
        let listener = try ProxyListener(listen: listen)
        self.listener = listener
        listen = listener.displayed
        let board = board, counters = counters, upstream = upstream
        listener.start { [weak self] client in
            guard let self else { return client.close() }
            counters.accepted.add(1, ordering: .relaxed)
            guard let connection = ProxyConnection(client: client, upstream: upstream, board: board, counters: counters,
                                                   onClose: { [weak self] in self?.forget($0) }) else {
                return client.close()
            }
            counters.open.add(1, ordering: .relaxed)
            connections.withLock { $0[ObjectIdentifier(connection)] = connection }
            connection.start()
        }
        segments.proxyStarted(listenPort: listener.address.port, upstream: upstream)
    }

    /// Stops listening and closes every connection (toxiproxy's disable).
    func stop() {
        guard let listener else { return }
        listener.stop()
        self.listener = nil
        for connection in connections.withLock({ Array($0.values) }) { connection.terminate(reset: false) }
    }

    func change(listen: String?, upstream: String?) throws(APIError) {
        let newListen = listen ?? self.listen, newUpstream = upstream ?? self.upstream
        guard newListen != self.listen || newUpstream != self.upstream else { return }
        let wasEnabled = enabled
        stop()
        self.listen = newListen
        self.upstream = newUpstream
        if wasEnabled { try start() }
    }

    /// The toxics changed: every live connection looks at them now.
    func toxicsChanged() {
        for connection in connections.withLock({ Array($0.values) }) { connection.poke() }
    }

    private func forget(_ connection: ProxyConnection) {
        connections.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(connection)) }
        counters.open.subtract(1, ordering: .relaxed)
    }

    /// Gone for good (DELETE, populate's replace, server exit).
    func shutdown() {
        stop()
        segments.remove()
    }
}
