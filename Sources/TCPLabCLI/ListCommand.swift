import ArgumentParser
import TCPLab

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every lab with what it shows and the seed question it answers."
    )

    func run() throws {
        for family in LabDefinition.Family.allCases {
            print("\(family.rawValue):")
            for lab in LabCatalogue.all where lab.family == family {
                print("  \(lab.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(lab.summary)")
                print("  \(String(repeating: " ", count: 22)) ↳ \(lab.question)")
            }
        }
    }
}
