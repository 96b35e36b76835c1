import ArgumentParser
import Foundation
import TCPLab

/// The verdict of a compose lab whose pieces ran in separate containers of one network
/// namespace: it reads what each piece left in the shared results directory (tcplab-step),
/// reads the namespace's sysctls, asks the TCPLab model what the kernel should have done, and
/// prints predicted against observed, PASS or FAIL.
@main
struct JudgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcplab-docker-judge",
        abstract: "Judge a docker-compose lab: the ladder, predicted vs observed, PASS/FAIL.",
        discussion: """
        Labs: \(DockerLab.allCases.map { $0.rawValue }.joined(separator: ", ")).
        Exit status: 0 PASS, 1 FAIL, 2 when a piece of the lab left no result in time, 64 for bad input.
        """
    )

    @Argument(help: "The lab to judge.")
    var lab: DockerLab

    @Option(help: "The directory the lab's pieces write to (tcplab-step's TCPLAB_RESULTS).")
    var results = ProcessInfo.processInfo.environment["TCPLAB_RESULTS"] ?? "/dev/shm/tcplab"

    @Option(help: "Longest wait, in seconds, for the client and faultproxy to finish.")
    var timeout: Double = 120

    @Option(help: "The lab's server port.")
    var port: UInt16 = 7000

    @Option(help: "The per-socket keepalive the server was given (echo-server --keepalive IDLE,INTERVAL,COUNT); default: the tcp_keepalive_* sysctls.")
    var keepalive: String?

    @Flag(name: .customLong("remote-client"), help: "The client runs on another host (two-hosts.yml): judge it from faultproxy's pcap (faultproxy.pcap in the results directory), its --json report and the server's sockets.")
    var remoteClient = false

    func validate() throws {
        if let keepalive, Self.keepaliveTriple(keepalive) == nil {
            throw ValidationError("--keepalive wants IDLE,INTERVAL,COUNT in seconds, e.g. 2,1,3")
        }
    }

    static func keepaliveTriple(_ text: String) -> (idle: Double, interval: Double, count: Int)? {
        let parts = text.split(separator: ",")
        guard parts.count == 3, let idle = Double(parts[0]), let interval = Double(parts[1]), let count = Int(parts[2]) else { return nil }
        return (idle, interval, count)
    }

    func run() throws {
        let directory = ResultsDirectory(path: results)
        let parameters = KernelSysctls.read()
        print("== \(lab.rawValue): \(lab.summary)")
        print("   sysctls in this namespace: \(parameters.describe(lab.sysctls))")
        // tcplab-step marks the judge ready on that line: the client waits for it, so the judge
        // watches the sockets from the first segment on.
        fflush(nil)
        var judge = LabJudge(lab: lab, parameters: parameters, results: directory, timeout: timeout, port: port,
                             census: SocketCensus(port: port))
        judge.keepalive = keepalive.flatMap(Self.keepaliveTriple)
        judge.remoteClient = remoteClient
        let verdict: Verdict
        do {
            verdict = try judge.judge()
        } catch let missing as MissingResult {
            printError("tcplab-docker-judge: \(missing.description)")
            throw ExitCode(2)
        }
        if let ladder = directory.ladder("faultproxy.out") {
            print("\n-- ladder (faultproxy --timeline text --states)")
            print(ladder)
        }
        if let client = directory.lastJSONLine("client.out") {
            print("-- echo-client --json\n\(client)")
        }
        print("\n-- verdict (tolerance \(judge.tolerance))")
        print(verdict.table)
        print(verdict.passed ? "PASS \(lab.rawValue)" : "FAIL \(lab.rawValue)")
        if !verdict.passed { throw ExitCode(1) }
    }
}

extension DockerLab: ExpressibleByArgument {}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
