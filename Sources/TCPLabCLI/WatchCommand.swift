import ArgumentParser

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch", abstract: "Watch a port's segments and socket states live (not yet).")
    func run() throws { throw ValidationError("watch is not implemented yet") }
}
