import Hummingbird
import Logging

/// toxiproxy 2.x's HTTP API on a Hummingbird router, plus /metrics and the segment views.
struct ToxiproxyRoutes: Sendable {
    let registry: ProxyRegistry
    /// Largest request body read (populate lists stay far below it).
    static let bodyLimit = 4 << 20

    func register(on router: Router<BasicRequestContext>) {
        router.add(middleware: ToxiproxyFallbackMiddleware())
        router.get("/version") { _, _ in
            Answer.bytes("{\"version\": \"\(ServeVersion.toxiproxyAPI)\"}\n", status: .ok, contentType: "application/json;charset=utf-8")
        }
        router.get("/proxies") { _, _ in
            Answer.json(.object(registry.list().map { ($0.name, $0.json) }))
        }
        router.post("/proxies") { request, _ in
            await Answer.run { () throws(APIError) in
                let proxy = try registry.create(try ProxyRequest.parse(try await Self.body(request)))
                return Answer.json(proxy.json, status: .created)
            }
        }
        router.post("/populate") { request, _ in await populate(request) }
        router.post("/reset") { _, _ in
            registry.reset()
            return Answer.noContent()
        }
        router.get("/metrics") { _, _ in
            Answer.bytes(MetricsText.render(registry.allManaged()), status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        registerProxy(on: router)
        registerToxics(on: router)
        SegmentViews(registry: registry).register(on: router)
    }

    private func registerProxy(on router: Router<BasicRequestContext>) {
        router.get("/proxies/:proxy") { _, context in
            await Answer.run { () throws(APIError) in Answer.json(try registry.proxy(Self.name(context)).json) }
        }
        let update: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            await Answer.run { () throws(APIError) in
                let name = try Self.name(context)
                _ = try registry.proxy(name)  // 404 before the body is looked at, as toxiproxy does
                let proxy = try registry.update(name, try ProxyUpdate.parse(try await Self.body(request)))
                return Answer.json(proxy.json)
            }
        }
        router.post("/proxies/:proxy", use: update)
        router.patch("/proxies/:proxy", use: update)
        router.delete("/proxies/:proxy") { _, context in
            await Answer.run { () throws(APIError) in
                try registry.delete(try Self.name(context))
                return Answer.noContent()
            }
        }
    }

    private func registerToxics(on router: Router<BasicRequestContext>) {
        router.get("/proxies/:proxy/toxics") { _, context in
            await Answer.run { () throws(APIError) in
                Answer.json(.array(try registry.toxics(Self.name(context)).map(\.json)))
            }
        }
        router.post("/proxies/:proxy/toxics") { request, context in
            await Answer.run { () throws(APIError) in
                let name = try Self.name(context)
                _ = try registry.proxy(name)
                let toxic = try Toxic.parseNew(try await Self.body(request))
                return Answer.json(try registry.addToxic(name, toxic).json)
            }
        }
        router.get("/proxies/:proxy/toxics/:toxic") { _, context in
            await Answer.run { () throws(APIError) in
                Answer.json(try registry.toxic(Self.name(context), Self.toxicName(context)).json)
            }
        }
        let update: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            await Answer.run { () throws(APIError) in
                let name = try Self.name(context), toxicName = try Self.toxicName(context)
                _ = try registry.toxic(name, toxicName)
                return Answer.json(try registry.updateToxic(name, toxicName, try await Self.body(request)).json)
            }
        }
        router.post("/proxies/:proxy/toxics/:toxic", use: update)
        router.patch("/proxies/:proxy/toxics/:toxic", use: update)
        router.delete("/proxies/:proxy/toxics/:toxic") { _, context in
            await Answer.run { () throws(APIError) in
                try registry.deleteToxic(Self.name(context), Self.toxicName(context))
                return Answer.noContent()
            }
        }
    }

    private func populate(_ request: Request) async -> Response {
        let answer: (proxies: [ProxyBody]?, error: APIError?)
        do throws(APIError) {
            let value = try await Self.body(request)
            guard case .array(let items) = value else {
                throw APIError.badBody("json: cannot unmarshal \(value.goKind(into: "slice")) into Go value of type " + Self.populateGoType)
            }
            let requests = try items.enumerated().map { (index, item) throws(APIError) in
                try ProxyRequest.parse(item, position: index + 1)
            }
            let result = registry.populate(requests)
            answer = (result.proxies, result.error)
        } catch {
            answer = (nil, error)
        }
        let body = PopulateBody(proxies: answer.proxies, error: answer.error).json
        return Answer.json(body, status: .init(code: answer.error?.status ?? 201))
    }

    /// Go's name for populate's element type, as its unmarshal errors spell it.
    static let populateGoType = #"[]struct { toxiproxy.Proxy; Enabled *bool "json:\"enabled\"" }"#

    static func body(_ request: Request) async throws(APIError) -> JSONValue {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: bodyLimit)
        } catch {
            throw APIError.badBody("\(error)")
        }
        do {
            return try JSONValue.parse(Array(buffer.readableBytesView))
        } catch {
            throw APIError.badBody(error.message)
        }
    }

    static func name(_ context: BasicRequestContext) throws(APIError) -> String {
        guard let name = context.parameters.get("proxy") else { throw .proxyNotFound }
        return name
    }

    static func toxicName(_ context: BasicRequestContext) throws(APIError) -> String {
        guard let name = context.parameters.get("toxic") else { throw .toxicNotFound }
        return name
    }
}

public enum ServeVersion {
    /// The toxiproxy API version clients see at GET /version (some clients check it).
    public static let toxiproxyAPI = "2.12.0"
}
