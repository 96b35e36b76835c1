import Hummingbird

/// Responses with toxiproxy's exact bytes and headers: JSON answers as `application/json`,
/// errors as Go's http.Error writes them (text/plain, nosniff, body + newline).
enum Answer {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        bytes(JSONWriter.write(value), status: status, contentType: "application/json")
    }

    static func error(_ error: APIError) -> Response {
        var response = bytes(JSONWriter.write(error.body) + "\n", status: .init(code: error.status), contentType: "text/plain; charset=utf-8")
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }

    static func noContent() -> Response { Response(status: .noContent) }

    static func bytes(_ text: String, status: HTTPResponse.Status, contentType: String) -> Response {
        let buffer = ByteBuffer(string: text)
        return Response(status: status, headers: [.contentType: contentType, .contentLength: String(buffer.readableBytes)],
                        body: ResponseBody(byteBuffer: buffer))
    }

    /// Runs one API operation: an APIError becomes its answer, anything else a 500.
    static func run(_ body: () async throws(APIError) -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            return Answer.error(error)
        }
    }
}

/// Unknown paths and methods answer as Go's ServeMux and gorilla/mux do in toxiproxy:
/// 404 "404 page not found" for an unknown path, an empty 405 for a known path's wrong method.
struct ToxiproxyFallbackMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            if Self.isKnownPath(request.uri.path) {
                return Response(status: .methodNotAllowed, headers: [.contentLength: "0"])
            }
            return Answer.bytes("404 page not found\n", status: .notFound, contentType: "text/plain; charset=utf-8")
        }
    }

    static func isKnownPath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        switch (parts.count, parts.first) {
        case (1, "version"), (1, "proxies"), (1, "populate"), (1, "reset"), (1, "metrics"): return true
        case (2, "proxies"): return true
        case (3, "proxies"): return ["toxics", "timeline", "pcap"].contains(parts.last!)
        case (4, "proxies"): return parts[parts.startIndex + 2] == "toxics"
        default: return false
        }
    }
}
