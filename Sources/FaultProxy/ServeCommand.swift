import ArgumentParser
import FaultProxyServe
import Logging
import TCPLabCommandSupport
import TCPLabSystem

/// `faultproxy serve`: toxiproxy's HTTP API, its toxics, and segment toxics on the same API.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve toxiproxy's HTTP API: proxies and toxics at run time, plus segment toxics (drop, delay, duplicate).",
        discussion: """
            Speaks toxiproxy 2.x's API (GET /version, /proxies, /populate, /reset, \
            /proxies/NAME/toxics ...), so toxiproxy's clients work unchanged. Toxics: latency, \
            bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, and the segment toxics \
            drop, delay and duplicate ({"type":"drop","attributes":{"segment":"synack","count":2}}), \
            which are nftables rules on the proxy's legs. GET /proxies/NAME/timeline and /pcap show \
            what the kernel did; GET /metrics is Prometheus text.

            Example: faultproxy serve --port 8474 & toxiproxy-cli create -l 127.0.0.1:7001 -u 127.0.0.1:7000 echo
            """
    )

    @Option(help: "Address the API listens on.")
    var host = "127.0.0.1"

    @Option(help: "Port the API listens on (0 picks one; the chosen port is printed).")
    var port = 8474

    @Option(help: ArgumentHelp("Proxies to create at start: a JSON array as POST /populate takes, each proxy optionally with \"toxics\".", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535, got \(port)") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level \(logLevel)") }
    }

    func run() throws {
        let server = FaultProxyServer(options: .init(host: host, port: port, configPath: config, logLevel: Logger.Level(rawValue: logLevel) ?? .info))
        do {
            try server.loadConfig()
        } catch {
            printError("faultproxy serve: \(error.message)")
            throw ExitCode.validationFailure
        }
        do {
            try server.runBlocking { port in printError("faultproxy serve: API on http://\(host):\(port)") }
        } catch {
            printError("faultproxy serve: \(error)")
            throw ExitStatus.failure
        }
    }
}
