/// The toxic types: toxiproxy's seven, plus the segment toxics no L4 proxy can do.
public enum ToxicType: String, CaseIterable, Codable, Sendable {
    case latency, bandwidth, timeout, slicer
    case slowClose = "slow_close"
    case resetPeer = "reset_peer"
    case limitData = "limit_data"
    /// Segment toxics: nftables rules on the proxy's legs (CLI vocabulary: `--drop synack:2`).
    case drop, delay, duplicate

    /// One attribute: its JSON name, its Go type (for Go's error messages) and its default.
    struct Field {
        let name: String
        let goType: String
        let defaultValue: JSONValue
        init(_ name: String, _ goType: String = "int64", _ defaultValue: JSONValue = .integer(0)) {
            self.name = name
            self.goType = goType
            self.defaultValue = defaultValue
        }
    }

    /// The attributes in toxiproxy's order, with Go's struct name for error messages.
    var schema: (goStruct: String, fields: [Field]) {
        switch self {
        case .latency: ("LatencyToxic", [Field("latency"), Field("jitter")])
        case .bandwidth: ("BandwidthToxic", [Field("rate")])
        case .slowClose: ("SlowCloseToxic", [Field("delay")])
        case .timeout: ("TimeoutToxic", [Field("timeout")])
        case .resetPeer: ("ResetToxic", [Field("timeout")])
        case .slicer: ("SlicerToxic", [Field("average_size", "int"), Field("size_variation", "int"), Field("delay", "int")])
        case .limitData: ("LimitDataToxic", [Field("bytes")])
        case .drop: ("DropToxic", SegmentToxicSchema.common + [Field("probability", "float64", .float(0))])
        case .delay: ("DelayToxic", SegmentToxicSchema.common + [Field("delay"), Field("jitter")])
        case .duplicate: ("DuplicateToxic", SegmentToxicSchema.common + [Field("delay")])
        }
    }

    public var isSegmentToxic: Bool { self == .drop || self == .delay || self == .duplicate }
}

enum SegmentToxicSchema {
    /// segment: the CLI's names (syn, synack, data, fin, rst, ...); count: the first N per connection
    /// (0 = every one); nth: only the K-th; from: client or server (empty = both);
    /// leg: client (client ↔ proxy, the default) or upstream (proxy ↔ server).
    static let common: [ToxicType.Field] = [
        .init("segment", "string", .string("")), .init("count"), .init("nth"),
        .init("from", "string", .string("")), .init("leg", "string", .string("client")),
    ]
}

/// A toxic's attributes, typed by its schema: every field present, in the schema's order.
public struct ToxicAttributes: Sendable, Equatable {
    public let type: ToxicType
    public private(set) var values: [(String, JSONValue)]

    public static func == (lhs: ToxicAttributes, rhs: ToxicAttributes) -> Bool {
        lhs.type == rhs.type && JSONValue.object(lhs.values) == JSONValue.object(rhs.values)
    }

    init(defaultsFor type: ToxicType) {
        self.type = type
        values = type.schema.fields.map { ($0.name, $0.defaultValue) }
    }

    /// Applies the fields present in `patch` (an object) over these values, as Go decodes
    /// into an existing struct. Unknown keys are ignored.
    func merging(_ patch: JSONValue?) throws(APIError) -> ToxicAttributes {
        guard let patch, patch != .null else { return self }
        let (goStruct, fields) = type.schema
        let reader = try GoFieldReader(patch, goStruct: goStruct, pathPrefix: "attributes.")
        var merged = self
        for (index, field) in fields.enumerated() {
            switch field.goType {
            case "string": if let text = try reader.string(field.name) { merged.values[index].1 = .string(text) }
            case "float64": if let number = try reader.float(field.name, goType: "float64") { merged.values[index].1 = .float(number) }
            default: if let number = try reader.integer(field.name, goType: field.goType) { merged.values[index].1 = .integer(number) }
            }
        }
        return merged
    }

    public func integer(_ name: String) -> Int64 {
        if case .integer(let number) = values.first(where: { $0.0 == name })?.1 { return number }
        return 0
    }

    public func string(_ name: String) -> String {
        if case .string(let text) = values.first(where: { $0.0 == name })?.1 { return text }
        return ""
    }

    public func float(_ name: String) -> Double {
        switch values.first(where: { $0.0 == name })?.1 {
        case .float(let number): number
        case .integer(let number): Double(number)
        default: 0
        }
    }

    var json: JSONValue { .object(values) }
}

public enum ToxicStream: String, Codable, Sendable { case upstream, downstream }

/// A toxic as the API shows it: `{"attributes","name","type","stream","toxicity"}`.
public struct ToxicBody: Codable, Sendable, Equatable {
    public var attributes: JSONValue
    public var name: String
    public var type: String
    public var stream: String
    public var toxicity: Float

    var json: JSONValue {
        .object([
            ("attributes", attributes), ("name", .string(name)), ("type", .string(type)),
            ("stream", .string(stream)), ("toxicity", JSONWriter.float32(toxicity)),
        ])
    }
}

/// One toxic on a proxy.
public struct Toxic: Sendable, Equatable {
    public var name: String
    public var stream: ToxicStream
    public var toxicity: Float
    public var attributes: ToxicAttributes
    public var type: ToxicType { attributes.type }

    var body: ToxicBody {
        ToxicBody(attributes: attributes.json, name: name, type: type.rawValue, stream: stream.rawValue, toxicity: toxicity)
    }

    /// POST /proxies/{name}/toxics, checked in toxiproxy's order: body, stream, type, (name taken:
    /// the caller), attributes.
    static func parseNew(_ value: JSONValue) throws(APIError) -> Toxic {
        let reader = try GoFieldReader(value, goStruct: "ToxicWrapper", goValueType: "toxics.ToxicWrapper")
        let streamText = try reader.string("stream") ?? "downstream"
        let typeText = try reader.string("type") ?? ""
        let toxicity = try reader.float("toxicity") ?? 1
        var name = try reader.string("name") ?? ""
        guard let stream = ToxicStream(rawValue: streamText) else { throw .invalidStream }
        guard let type = ToxicType(rawValue: typeText) else { throw .invalidToxicType }
        if name.isEmpty { name = "\(typeText)_\(streamText)" }
        let attributes = try ToxicAttributes(defaultsFor: type).merging(value["attributes"])
        let toxic = Toxic(name: name, stream: stream, toxicity: Float(toxicity), attributes: attributes)
        try toxic.validateSegment()
        return toxic
    }

    /// PATCH: toxicity and attributes change; name, type and stream stay (as in toxiproxy).
    func patched(with value: JSONValue) throws(APIError) -> Toxic {
        let reader = try GoFieldReader(value, goStruct: "ToxicWrapper", goValueType: "toxics.ToxicWrapper")
        var copy = self
        if let toxicity = try reader.float("toxicity") { copy.toxicity = Float(toxicity) }
        _ = try reader.string("name")
        _ = try reader.string("type")
        _ = try reader.string("stream")
        copy.attributes = try attributes.merging(value["attributes"])
        try copy.validateSegment()
        return copy
    }
}

extension Toxic {
    /// Segment toxics speak the CLI's vocabulary; their attributes must make a valid CLI spec.
    func validateSegment() throws(APIError) {
        guard type.isSegmentToxic else { return }
        try SegmentPlanner.validate(self)
    }
}
