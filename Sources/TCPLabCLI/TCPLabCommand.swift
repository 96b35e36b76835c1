import ArgumentParser

@main
struct TCPLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tcplab",
        abstract: "Ask the kernel the seed notes' TCP questions: each lab predicts, runs and judges what Linux does.",
        discussion: """
            Each lab makes its own network namespace, sets its sysctls, runs echo-server, \
            echo-client and faultproxy inside it, shows the segment ladder with the sockets' \
            states, and compares what happened with what a model of the kernel (fed by the \
            sysctls read back from the namespace) expects. Needs root (network namespaces).
            """,
        subcommands: [ListCommand.self, RunCommand.self, ReportCommand.self, WatchCommand.self]
    )
}
