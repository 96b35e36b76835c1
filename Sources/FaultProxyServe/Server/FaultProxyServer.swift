import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// `faultproxy serve`: toxiproxy's API on --host:--port; proxies from --config at start; on
/// SIGINT/SIGTERM every proxy stops and every rule goes (the owner table would go anyway).
public struct FaultProxyServer: Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var configPath: String?
        public var logLevel: Logger.Level

        public init(host: String = "127.0.0.1", port: Int = 8474, configPath: String? = nil, logLevel: Logger.Level = .info) {
            self.host = host
            self.port = port
            self.configPath = configPath
            self.logLevel = logLevel
        }
    }

    public let options: Options
    public let registry: ProxyRegistry
    private let logger: Logger

    public init(options: Options) {
        self.options = options
        var logger = Logger(label: "faultproxy.serve")
        logger.logLevel = options.logLevel
        self.logger = logger
        let segmentLogger = logger
        registry = ProxyRegistry { name in SegmentToxicInstaller(proxyName: name, logger: segmentLogger) }
    }

    /// Loads --config: a JSON array of proxies as POST /populate takes, each optionally with "toxics".
    public func loadConfig() throws(APIError) {
        guard let path = options.configPath else { return }
        guard let data = FileManager.default.contents(atPath: path) else { throw APIError(400, "--config \(path): cannot read the file") }
        try ServeConfig.load(Array(data), into: registry)
        logger.info("loaded proxies from config", metadata: ["path": "\(path)", "proxies": "\(registry.list().count)"])
    }

    /// Serves until SIGINT or SIGTERM. `onListening` gets the API's bound port (for --port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let router = Router()
        ToxiproxyRoutes(registry: registry).register(on: router)
        let logger = logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("API listening", metadata: ["address": "http://\(channel.localAddress?.ipAddress ?? "?"):\(port)"])
                onListening(port)
            },
            logger: logger
        )
        defer { registry.shutdownAll() }
        try await app.runService()
    }

    /// For a synchronous caller (the faultproxy command): runs the server on Swift's
    /// concurrency threads and blocks this thread until it stops.
    public func runBlocking(onListening: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        let outcome = Mutex<(any Error)?>(nil)
        let done = DispatchSemaphore(value: 0)
        let server = self
        Task {
            do { try await server.run(onListening: onListening) } catch { outcome.withLock { $0 = error } }
            done.signal()
        }
        done.wait()
        if let error = outcome.withLock({ $0 }) { throw error }
    }
}

/// --config: `[{"name","listen","upstream","enabled"?, "toxics"?: [toxic, ...]}]`.
enum ServeConfig {
    static func load(_ bytes: [UInt8], into registry: ProxyRegistry) throws(APIError) {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw .badBody(error.message) }
        guard case .array(let items) = value else { throw .badBody("the config is a JSON array of proxies") }
        let requests = try items.enumerated().map { (index, item) throws(APIError) in try ProxyRequest.parse(item, position: index + 1) }
        let result = registry.populate(requests)
        if let error = result.error { throw error }
        for (item, request) in zip(items, requests) {
            guard case .array(let toxics)? = item["toxics"] else { continue }
            for toxic in toxics { _ = try registry.addToxic(request.name, try Toxic.parseNew(toxic)) }
        }
    }
}
