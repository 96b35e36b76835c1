/// An answer other than success, with toxiproxy's status code and message. toxiproxy writes it as
/// `{"error":"...","status":N}` plus a newline (Go's http.Error), with a text/plain content type.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }

    static let proxyNotFound = APIError(404, "proxy not found")
    static let proxyExists = APIError(409, "proxy already exists")
    static let toxicNotFound = APIError(404, "toxic not found")
    static let toxicExists = APIError(409, "toxic already exists")
    static let invalidToxicType = APIError(400, "invalid toxic type")
    static let invalidStream = APIError(400, "stream was invalid, can be either upstream or downstream")

    static func missingField(_ what: String) -> APIError { APIError(400, "missing required field: \(what)") }
    static func badBody(_ detail: String) -> APIError { APIError(400, "bad request body: \(detail)") }

    var body: JSONValue { .object([("error", .string(message)), ("status", .integer(Int64(status)))]) }
}

/// Reads request fields the way Go's encoding/json fills a struct: unknown keys are ignored,
/// null leaves the field as it was, and a value of the wrong kind is an error naming the field.
struct GoFieldReader {
    let object: [(String, JSONValue)]
    /// Go's name for the struct, as in `Go struct field ToxicWrapper.toxicity of type float32`.
    let goStruct: String
    var pathPrefix = ""

    /// `goStruct`: the struct's name in field errors ("Proxy"); `goValueType`: the type's name
    /// when the whole body is of the wrong kind ("toxiproxy.Proxy").
    init(_ value: JSONValue, goStruct: String, goValueType: String? = nil, pathPrefix: String = "") throws(APIError) {
        guard case .object(let fields) = value else {
            throw .badBody("json: cannot unmarshal \(value.goKind(into: "struct")) into Go value of type \(goValueType ?? goStruct)")
        }
        object = fields
        self.goStruct = goStruct
        self.pathPrefix = pathPrefix
    }

    func value(_ key: String) -> JSONValue? {
        guard let found = object.first(where: { $0.0 == key })?.1, found != .null else { return nil }
        return found
    }

    func mismatch(_ key: String, _ found: JSONValue, _ goType: String) -> APIError {
        .badBody("json: cannot unmarshal \(found.goKind(into: goType)) into Go struct field \(goStruct).\(pathPrefix)\(key) of type \(goType)")
    }

    func string(_ key: String) throws(APIError) -> String? {
        guard let found = value(key) else { return nil }
        guard case .string(let text) = found else { throw mismatch(key, found, "string") }
        return text
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let found = value(key) else { return nil }
        guard case .bool(let flag) = found else { throw mismatch(key, found, "bool") }
        return flag
    }

    func integer(_ key: String, goType: String = "int64") throws(APIError) -> Int64? {
        guard let found = value(key) else { return nil }
        guard case .integer(let number) = found else { throw mismatch(key, found, goType) }
        return number
    }

    func float(_ key: String, goType: String = "float32") throws(APIError) -> Double? {
        guard let found = value(key) else { return nil }
        switch found {
        case .integer(let number): return Double(number)
        case .float(let number): return number
        default: throw mismatch(key, found, goType)
        }
    }
}
