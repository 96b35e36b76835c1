extension TimelineEvent {
    /// Appends this event's `--timeline json` line (`TimelineRecord.segment`, newline included):
    /// the text JSONEncoder writes with sorted keys, byte for byte (TimelineJSONLineTests holds
    /// the two together, every key set and none), at a small part of its cost. A bulk transfer
    /// logs tens of thousands of segments a second, and JSONEncoder's boxing and key sorting was
    /// three quarters of the capture's CPU (perf, 1 GiB through iperf3), which the traffic paid
    /// for on two cores. The keys are CodingKeys' in sorted order.
    public func appendJSONLine(to bytes: inout [UInt8]) {
        JSONObjectText.append(to: &bytes) { object in
            fields(into: &object)
        }
    }

    private func fields(into object: inout JSONObjectText) {
        object.field("ack_raw", acknowledgmentRaw)
        object.field("ack_rel", acknowledgmentRelative)
        object.field("conn", connection)
        object.field("dst", destination)
        object.field("fate", fate.rawValue)
        object.field("fault_delay_us", faultDelayMicroseconds)
        object.field("fault_jitter_us", faultJitterMicroseconds)
        object.field("fault_kind", faultKind?.rawValue)
        object.field("flags", flags)
        object.field("from", from.rawValue)
        object.field("held_us", heldMicroseconds)
        object.field("kind", kind.rawValue)
        object.field("len_bytes", payloadBytes)
        object.field("mss_bytes", maximumSegmentSizeBytes)
        object.field("options", strings: options)
        object.field("retransmission", retransmission)
        object.field("sack_ok", sackPermitted)
        object.field("sack_rel", rows: sackRelative)
        object.field("seq_raw", sequenceRaw)
        object.field("seq_rel", sequenceRelative)
        object.field("src", source)
        object.field("t_us", offsetMicroseconds)
        object.field("ts_ecr", timestampEchoReply)
        object.field("ts_val", timestampValue)
        object.field("type", TimelineRecord.Kind.segment.rawValue)
        object.field("unix_us", timeUnixMicroseconds)
        object.field("win_bytes", windowBytes)
        object.field("win_raw", windowRaw)
        object.field("wscale", windowScale)
    }
}

/// One JSON object written as JSONEncoder writes it (compact, slashes unescaped, nil values
/// left out as encodeIfPresent does), straight into a byte buffer.
struct JSONObjectText {
    private var bytes: [UInt8] = []
    private var empty = true

    /// Writes one object and a newline at the end of `bytes`. The writer takes the buffer over
    /// (a swap, not a copy) while `body` fills it: a batch holds thousands of lines, and a buffer
    /// shared with the caller would be copied whole on the first append of every line.
    static func append(to bytes: inout [UInt8], _ body: (inout JSONObjectText) -> Void) {
        var object = JSONObjectText()
        swap(&object.bytes, &bytes)
        defer { swap(&object.bytes, &bytes) }
        object.bytes.append(UInt8(ascii: "{"))
        body(&object)
        object.bytes.append(contentsOf: "}\n".utf8)
    }

    private mutating func key(_ key: StaticString) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
    }

    mutating func field(_ name: StaticString, _ value: (some BinaryInteger)?) {
        guard let value else { return }
        key(name)
        Self.append(integer: Int64(value), to: &bytes)
    }

    mutating func field(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        Self.append(string: value, to: &bytes)
    }

    mutating func field(_ name: StaticString, strings values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.append(string: value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ name: StaticString, rows: [[UInt32]]?) {
        guard let rows else { return }
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, row) in rows.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            for (column, value) in row.enumerated() {
                if column > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.append(integer: Int64(value), to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A quoted string with JSON's escapes: quote, backslash, the short control escapes and
    /// \u00XX for the other control characters; everything else as UTF-8.
    static func append(string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        defer { bytes.append(UInt8(ascii: "\"")) }
        // Almost every string (addresses, flags, options) needs no escape: copy it whole.
        if !string.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: string.utf8)
            return
        }
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
    }

    /// Decimal digits, without making a String for each number.
    static func append(integer value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }
}
