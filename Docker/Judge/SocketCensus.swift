import Foundation

/// The lab's TCP sockets as `ss` sees them from inside the shared namespace (sock_diag; no
/// privilege needed to list them).
struct SocketCensus: Sendable {
    var port: UInt16

    /// One socket: its state ("TIME-WAIT") and, with -o, its timer's remaining time in seconds.
    struct Entry: Sendable {
        var state: String
        var local: String
        var peer: String
        var timerSeconds: Double?
    }

    /// Server-side sockets (source port = the lab port) and client-side ones (destination port).
    enum Side: String, Sendable { case server, client }

    /// `state` as ss names it in a filter ("time-wait"); matched against its State column, since
    /// with a `state` filter ss leaves that column out.
    func sockets(_ side: Side, state: String) -> [Entry] {
        let filter = side == .server ? "( sport = :\(port) )" : "( dport = :\(port) )"
        return Self.ss(["-Htano", filter]).filter { $0.state.lowercased() == state.lowercased() }
    }

    func count(_ side: Side, state: String) -> Int { sockets(side, state: state).count }

    static func ss(_ arguments: [String]) -> [Entry] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ss")
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/ss") { process.executableURL = URL(fileURLWithPath: "/bin/ss") }
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return [] }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap(parse)
    }

    /// "TIME-WAIT 0 0 127.0.0.1:40000 127.0.0.1:7000 timer:(timewait,59sec,0)"
    static func parse(_ line: Substring) -> Entry? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 5 else { return nil }
        let timer = fields.first(where: { $0.hasPrefix("timer:(") }).flatMap { field -> Double? in
            let parts = field.dropFirst("timer:(".count).split(separator: ",")
            return parts.count >= 2 ? seconds(parts[1]) : nil
        }
        return Entry(state: String(fields[0]), local: String(fields[3]), peer: String(fields[4]), timerSeconds: timer)
    }

    /// ss's timer text: "200ms", "59sec", "1.5sec", "1min20sec".
    static func seconds(_ text: Substring) -> Double? {
        var total = 0.0
        var number = ""
        var rest = text[...]
        var parsed = false
        while let character = rest.first {
            if character.isNumber || character == "." {
                number.append(character)
                rest = rest.dropFirst()
                continue
            }
            let unit = rest.prefix(while: { $0.isLetter })
            guard let value = Double(number) else { return nil }
            switch unit {
            case "ms": total += value / 1000
            case "sec", "s": total += value
            case "min": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
            parsed = true
            number = ""
            rest = rest.dropFirst(unit.count)
        }
        return parsed ? total : nil
    }
}
