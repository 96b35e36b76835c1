/// A proxy as toxiproxy 2.12 shows it: `{"name","listen","upstream","enabled","Logger":{},"toxics":[...]}`.
/// (2.12 writes an empty "Logger" object; clients ignore it, and it is kept for byte-for-byte answers.)
public struct ProxyBody: Codable, Sendable, Equatable {
    public var name: String
    public var listen: String
    public var upstream: String
    public var enabled: Bool
    public var toxics: [ToxicBody]

    public init(name: String, listen: String, upstream: String, enabled: Bool, toxics: [ToxicBody]) {
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = enabled
        self.toxics = toxics
    }

    var json: JSONValue {
        .object([
            ("name", .string(name)), ("listen", .string(listen)), ("upstream", .string(upstream)),
            ("enabled", .bool(enabled)), ("Logger", .object([])), ("toxics", .array(toxics.map(\.json))),
        ])
    }
}

/// POST /proxies and each element of POST /populate.
public struct ProxyRequest: Codable, Sendable, Equatable {
    public var name: String
    public var listen: String
    public var upstream: String
    public var enabled: Bool

    public init(name: String, listen: String = "", upstream: String, enabled: Bool = true) {
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = enabled
    }

    /// Parses one proxy; `position` is the 1-based index in a populate list ("name at proxy 2").
    static func parse(_ value: JSONValue, position: Int? = nil) throws(APIError) -> ProxyRequest {
        let reader = try GoFieldReader(value, goStruct: "Proxy", goValueType: "toxiproxy.Proxy")
        let name = try reader.string("name") ?? ""
        let listen = try reader.string("listen") ?? ""
        let upstream = try reader.string("upstream") ?? ""
        let enabled = try reader.bool("enabled") ?? true
        let suffix = position.map { " at proxy \($0)" } ?? ""
        guard !name.isEmpty else { throw .missingField("name" + suffix) }
        guard !upstream.isEmpty else { throw .missingField("upstream" + suffix) }
        return ProxyRequest(name: name, listen: listen, upstream: upstream, enabled: enabled)
    }
}

/// PATCH (or POST) /proxies/{name}: each field absent keeps the proxy's value.
public struct ProxyUpdate: Codable, Sendable, Equatable {
    public var listen: String?
    public var upstream: String?
    public var enabled: Bool?

    public init(listen: String? = nil, upstream: String? = nil, enabled: Bool? = nil) {
        self.listen = listen
        self.upstream = upstream
        self.enabled = enabled
    }

    static func parse(_ value: JSONValue) throws(APIError) -> ProxyUpdate {
        let reader = try GoFieldReader(value, goStruct: "Proxy", goValueType: "toxiproxy.Proxy")
        return ProxyUpdate(listen: try reader.string("listen"), upstream: try reader.string("upstream"), enabled: try reader.bool("enabled"))
    }
}

/// POST /populate's answer: `{"proxies":[...]}`; on error `{"error","status","proxies"}` with
/// the proxies made before the failure (null when none).
struct PopulateBody {
    var proxies: [ProxyBody]?
    var error: APIError?

    var json: JSONValue {
        // Go writes an empty slice here as null.
        let list: JSONValue = proxies.flatMap { $0.isEmpty ? nil : JSONValue.array($0.map(\.json)) } ?? .null
        guard let error else { return .object([("proxies", list)]) }
        return .object([("error", .string(error.message)), ("status", .integer(Int64(error.status))), ("proxies", list)])
    }
}

public struct VersionBody: Codable, Sendable, Equatable {
    public var version: String
}
