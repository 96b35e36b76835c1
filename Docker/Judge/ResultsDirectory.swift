import Foundation

/// What tcplab-step leaves for each piece NAME of a lab: NAME.out, NAME.err, NAME.ready once it
/// printed its ready line, NAME.status (its exit status) and NAME.ended (epoch seconds) once it exited.
struct ResultsDirectory: Sendable {
    var path: String

    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Decoded leniently: faultproxy's ladder and report reach the file through different buffers,
    /// and an interleaving can split a multi-byte character.
    func text(_ name: String) -> String? {
        FileManager.default.contents(atPath: file(name)).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    /// The piece's exit status, once it has exited.
    func status(_ piece: String) -> Int32? {
        text("\(piece).status").flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// When the piece exited (its wrapper's clock, which is this machine's realtime clock).
    func ended(_ piece: String) -> Date? {
        text("\(piece).ended").flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            .map { Date(timeIntervalSince1970: $0) }
    }

    /// Waits (polling every 20 ms, at most `timeout` seconds) until `name` exists.
    func wait(for name: String, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !exists(name) {
            guard Date() < deadline else { throw MissingResult(file: file(name), timeout: timeout) }
            usleep(20_000)
        }
    }

    /// The last line of a file that is a JSON object.
    func lastJSONLine(_ name: String) -> String? {
        text(name)?.split(separator: "\n").last(where: { $0.hasPrefix("{") }).map(String.init)
    }

    /// The last JSON line of `name` that decodes as `type` (echo-client's report, faultproxy's drop
    /// report); `key`, the record's first key, finds it inside another line.
    /// The object may start mid-line: faultproxy's report and its ladder reach a pipe through
    /// different buffers, so the report can land inside a ladder line.
    func decode<Record: Decodable>(_ type: Record.Type, from name: String, having key: String) -> Record? {
        let decoder = JSONDecoder()
        for line in (text(name) ?? "").split(separator: "\n").reversed() {
            guard let start = line.range(of: "{\"\(key)\"")?.lowerBound ?? (line.hasPrefix("{") ? line.startIndex : nil) else { continue }
            if let record = try? decoder.decode(type, from: Data(line[start...].utf8)) { return record }
        }
        return nil
    }

    /// faultproxy's ladder: from its "time" header on, with its JSON report taken out (and the
    /// ladder line the report split joined again).
    func ladder(_ name: String) -> String? {
        guard var text = text(name) else { return nil }
        if let report = text.range(of: #"\{"dropped":\{[^}\n]*\}\}\n?"#, options: .regularExpression) {
            text.removeSubrange(report)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = lines.firstIndex(where: { $0.hasPrefix("time ") }) ?? lines.startIndex
        return lines[start...].joined(separator: "\n")
    }
}

struct MissingResult: Error, CustomStringConvertible {
    var file: String
    var timeout: Double
    var description: String { "no \(file) after \(Int(timeout)) s: did that container start and finish? (docker compose logs)" }
}
