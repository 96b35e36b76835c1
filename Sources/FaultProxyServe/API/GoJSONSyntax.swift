/// Words a malformed request body's first error as Go's encoding/json does ("invalid character
/// 'b' looking for beginning of object key string", "unexpected EOF", "EOF"), so toxiproxy's
/// clients and tests see the same error bodies. Only the error's wording: the document itself is
/// parsed by Foundation's JSONDecoder; this runs only after that failed.
struct GoJSONSyntax {
    private let bytes: [UInt8]
    private var index = 0

    static func message(for bytes: [UInt8]) -> String? {
        var scanner = GoJSONSyntax(bytes: bytes)
        scanner.skipSpace()
        if scanner.index == bytes.count { return "EOF" }
        do {
            try scanner.value()
            return nil
        } catch {
            return error.message
        }
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    struct Failure: Error { var message: String }

    private static func quote(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): return #"'\''"#
        case 0x20..<0x7f: return "'\(Character(Unicode.Scalar(byte)))'"
        default: return "'\\x\(String(byte, radix: 16))'"
        }
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
    }

    /// The next non-space byte, or "unexpected EOF".
    private mutating func next() throws(Failure) -> UInt8 {
        skipSpace()
        guard index < bytes.count else { throw Failure(message: "unexpected EOF") }
        return bytes[index]
    }

    private func invalid(_ byte: UInt8, _ context: String) -> Failure {
        Failure(message: "invalid character \(Self.quote(byte)) \(context)")
    }

    private mutating func value() throws(Failure) {
        let byte = try next()
        switch byte {
        case UInt8(ascii: "{"): index += 1; try object()
        case UInt8(ascii: "["): index += 1; try array()
        case UInt8(ascii: "\""): index += 1; try string()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): number()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: throw invalid(byte, "looking for beginning of value")
        }
    }

    private mutating func object() throws(Failure) {
        if try next() == UInt8(ascii: "}") { index += 1; return }
        while true {
            let key = try next()
            guard key == UInt8(ascii: "\"") else { throw invalid(key, "looking for beginning of object key string") }
            index += 1
            try string()
            let colon = try next()
            guard colon == UInt8(ascii: ":") else { throw invalid(colon, "after object key") }
            index += 1
            try value()
            let separator = try next()
            index += 1
            if separator == UInt8(ascii: "}") { return }
            guard separator == UInt8(ascii: ",") else { throw invalid(separator, "after object key:value pair") }
        }
    }

    private mutating func array() throws(Failure) {
        if try next() == UInt8(ascii: "]") { index += 1; return }
        while true {
            try value()
            let separator = try next()
            index += 1
            if separator == UInt8(ascii: "]") { return }
            guard separator == UInt8(ascii: ",") else { throw invalid(separator, "after array element") }
        }
    }

    private mutating func string() throws(Failure) {
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte < 0x20 { throw invalid(byte, "in string literal") }
            if byte == UInt8(ascii: "\\") { index += 1 }
        }
        throw Failure(message: "unexpected EOF")
    }

    private mutating func number() {
        while index < bytes.count, "0123456789+-.eE".utf8.contains(bytes[index]) { index += 1 }
    }

    private mutating func literal(_ word: String) throws(Failure) {
        for expected in word.utf8 {
            guard index < bytes.count else { throw Failure(message: "unexpected EOF") }
            guard bytes[index] == expected else {
                throw invalid(bytes[index], "in literal \(word) (expecting \(Self.quote(expected)))")
            }
            index += 1
        }
    }
}
