import Foundation

/// Writes one JSON object per line on stdout, keys sorted so output is stable for tests and diffs.
public enum JSONLines {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func encode<T: Encodable>(_ value: T) -> String {
        // Encoding our own plain structs cannot fail; a failure is a programming error.
        let data = try! encoder.encode(value)
        return String(decoding: data, as: UTF8.self)
    }

    /// Prints and flushes at once, so a reader on a pipe sees each event when it happens.
    /// Whatever `print` left in stdio's buffer goes out first, so lines never interleave.
    public static func emit<T: Encodable>(_ value: T) {
        fflush(nil)  // all stdio output streams; `stdout` itself is not concurrency-safe to name
        FileHandle.standardOutput.write(Data((encode(value) + "\n").utf8))
    }

    /// Prints lines already encoded (`TimelineEvent.appendJSONLine`) with one write: a bulk
    /// transfer logs tens of thousands of segments a second, too many for a write each.
    public static func emit(encodedLines bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        fflush(nil)
        FileHandle.standardOutput.write(Data(bytes))
    }
}

/// One line on stderr, for human messages that must not mix with JSON on stdout.
public func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
