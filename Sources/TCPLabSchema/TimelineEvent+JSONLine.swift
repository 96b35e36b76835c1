extension TimelineEvent {
    /// Appends this event's `--timeline json` line (`TimelineRecord.segment`, newline included):
    /// the text JSONEncoder writes with sorted keys, byte for byte (TimelineJSONLineTests holds
    /// the two together), at a small part of its cost. A bulk transfer logs tens of thousands of
    /// segments a second, and JSONEncoder's boxing and key sorting was three quarters of the
    /// capture's CPU (perf, 1 GiB through iperf3), which the traffic paid on two cores.
    public func appendJSONLine(to bytes: inout [UInt8]) {
        var first = true
        bytes.append(UInt8(ascii: "{"))
        for (key, field) in Self.jsonFields {
            guard let value = field(self) else { continue }
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            JSONText.append(string: key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            value.append(to: &bytes)
        }
        bytes.append(contentsOf: "}\n".utf8)
    }

    /// Every key of the line with its value (nil: left out, as encodeIfPresent does), in the
    /// order JSONEncoder's `.sortedKeys` writes them; built once.
    private static let jsonFields: [(String, @Sendable (TimelineEvent) -> JSONText?)] = {
        let fields: [(CodingKeys?, @Sendable (TimelineEvent) -> JSONText?)] = [
            (.connection, { .integer(Int64($0.connection)) }),
            (.offsetMicroseconds, { .integer($0.offsetMicroseconds) }),
            (.timeUnixMicroseconds, { .integer($0.timeUnixMicroseconds) }),
            (.from, { .string($0.from.rawValue) }),
            (.source, { .string($0.source) }),
            (.destination, { .string($0.destination) }),
            (.kind, { .string($0.kind.rawValue) }),
            (.retransmission, { .bool($0.retransmission) }),
            (.fate, { .string($0.fate.rawValue) }),
            (.faultKind, { $0.faultKind.map { .string($0.rawValue) } }),
            (.flags, { .string($0.flags) }),
            (.sequenceRelative, { .integer(Int64($0.sequenceRelative)) }),
            (.acknowledgmentRelative, { $0.acknowledgmentRelative.map { .integer(Int64($0)) } }),
            (.sequenceRaw, { .integer(Int64($0.sequenceRaw)) }),
            (.acknowledgmentRaw, { .integer(Int64($0.acknowledgmentRaw)) }),
            (.payloadBytes, { .integer(Int64($0.payloadBytes)) }),
            (.windowRaw, { .integer(Int64($0.windowRaw)) }),
            (.windowBytes, { $0.windowBytes.map { .integer(Int64($0)) } }),
            (.maximumSegmentSizeBytes, { $0.maximumSegmentSizeBytes.map { .integer(Int64($0)) } }),
            (.windowScale, { $0.windowScale.map { .integer(Int64($0)) } }),
            (.sackPermitted, { $0.sackPermitted.map { .bool($0) } }),
            (.timestampValue, { $0.timestampValue.map { .integer(Int64($0)) } }),
            (.timestampEchoReply, { $0.timestampEchoReply.map { .integer(Int64($0)) } }),
            (.sackRelative, { $0.sackRelative.map { .integerRows($0.map { $0.map(Int64.init) }) } }),
            (.options, { .strings($0.options) }),
            (.faultDelayMicroseconds, { $0.faultDelayMicroseconds.map { .integer($0) } }),
            (.faultJitterMicroseconds, { $0.faultJitterMicroseconds.map { .integer($0) } }),
            (.heldMicroseconds, { $0.heldMicroseconds.map { .integer($0) } }),
            (nil, { _ in .string(TimelineRecord.Kind.segment.rawValue) }),
        ]
        return fields.map { ($0.0?.stringValue ?? TimelineRecord.TypeKey.type.stringValue, $0.1) }
            .sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
    }()
}

/// A JSON value as JSONEncoder writes it (compact, slashes unescaped).
enum JSONText {
    case integer(Int64)
    case bool(Bool)
    case string(String)
    case strings([String])
    case integerRows([[Int64]])

    func append(to bytes: inout [UInt8]) {
        switch self {
        case .integer(let value): bytes.append(contentsOf: String(value).utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .string(let value): Self.append(string: value, to: &bytes)
        case .strings(let values): Self.appendArray(values, to: &bytes) { Self.append(string: $0, to: &$1) }
        case .integerRows(let rows):
            Self.appendArray(rows, to: &bytes) { row, bytes in
                Self.appendArray(row, to: &bytes) { value, bytes in bytes.append(contentsOf: String(value).utf8) }
            }
        }
    }

    static func appendArray<Element>(_ elements: [Element], to bytes: inout [UInt8], _ appendElement: (Element, inout [UInt8]) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendElement(element, &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A quoted string with JSON's escapes: quote, backslash, the short control escapes and
    /// \u00XX for the other control characters; everything else as UTF-8.
    static func append(string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
            case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
            case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
            case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
            case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
