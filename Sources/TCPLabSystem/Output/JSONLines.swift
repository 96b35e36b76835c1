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
    public static func emit<T: Encodable>(_ value: T) {
        FileHandle.standardOutput.write(Data((encode(value) + "\n").utf8))
    }
}

/// One line on stderr, for human messages that must not mix with JSON on stdout.
public func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
