import Foundation
import TCPLabSchema

/// A JSON document as a typed tree. Requests are parsed into it so that a field of the wrong
/// kind gets toxiproxy's own message (Go's `cannot unmarshal string into ... of type int64`),
/// and responses are written from it with object keys in declaration order, as Go's
/// encoding/json writes struct fields (Foundation's JSONEncoder orders them by hash).
public indirect enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case float(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.float(let a), .float(let b)): a == b
        case (.integer(let a), .float(let b)), (.float(let b), .integer(let a)): Double(a) == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && a.allSatisfy { key, value in b.first { $0.0 == key }?.1 == value }
        default: false
        }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            self = .object(try keyed.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
                ($0.stringValue, try keyed.decode(JSONValue.self, forKey: $0))
            })
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let value = try? single.decode(Bool.self) { self = .bool(value) }
        else if let value = try? single.decode(Int64.self) { self = .integer(value) }
        else if let value = try? single.decode(Double.self) { self = .float(value) }
        else { self = .string(try single.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let fields):
            var keyed = encoder.container(keyedBy: AnyKey.self)
            for (key, value) in fields { try keyed.encode(value, forKey: AnyKey(key)) }
        case .array(let items):
            var unkeyed = encoder.unkeyedContainer()
            for item in items { try unkeyed.encode(item) }
        case .null: var single = encoder.singleValueContainer(); try single.encodeNil()
        case .bool(let value): var single = encoder.singleValueContainer(); try single.encode(value)
        case .integer(let value): var single = encoder.singleValueContainer(); try single.encode(value)
        case .float(let value): var single = encoder.singleValueContainer(); try single.encode(value)
        case .string(let value): var single = encoder.singleValueContainer(); try single.encode(value)
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Parses a request body. Throws `JSONSyntaxError` for anything that is not JSON.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            if let message = GoJSONSyntax.message(for: bytes) { throw JSONSyntaxError(message: message) }
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            throw JSONSyntaxError(message: context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        } catch {
            throw JSONSyntaxError(message: "\(error)")
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    /// The kind Go's encoding/json names in an unmarshal error into a value of `goType`: a number
    /// is "number", or "number 1.5" when the target is a number that cannot hold it.
    func goKind(into goType: String) -> String {
        let numeric = goType.hasPrefix("int") || goType.hasPrefix("float") || goType.hasPrefix("uint")
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .integer(let value): return numeric ? "number \(value)" : "number"
        case .float(let value): return numeric ? "number \(JSONWriter.number(value))" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

public struct JSONSyntaxError: Error, Sendable { public var message: String }

/// Writes a JSONValue the way Go's encoding/json does: no spaces, HTML characters escaped.
public enum JSONWriter {
    public static func write(_ value: JSONValue) -> String {
        var out = ""
        append(value, to: &out)
        return out
    }

    static func append(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .integer(let number): out += String(number)
        case .float(let number): out += Self.number(number)
        case .string(let text): appendString(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                append(item, to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (index, (key, item)) in fields.enumerated() {
                if index > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                append(item, to: &out)
            }
            out += "}"
        }
    }

    /// Shortest round-trip digits, without Swift's trailing ".0" (Go writes 1, not 1.0).
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e21 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A toxicity is a float32 in toxiproxy: written with float32's shortest digits (0.3, not 0.30000001192).
    static func float32(_ value: Float) -> JSONValue {
        if value == value.rounded(), abs(value) < 1e21 { return .integer(Int64(value)) }
        return .float(Double("\(value)") ?? Double(value))
    }

    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        // Go's encoding/json: HTML's <, > and & and the JavaScript line separators as \u escapes too.
        text.appendEscaped(to: &out) { scalar in
            switch scalar {
            case "\"": "\\\""
            case "\\": "\\\\"
            case "\n": "\\n"
            case "\r": "\\r"
            case "\t": "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}": String(format: "\\u%04x", scalar.value)
            case _ where scalar.value < 0x20: String(format: "\\u%04x", scalar.value)
            default: nil
            }
        }
        out += "\""
    }
}
