import Foundation

/// Where the TCPLab executables are: `$TCPLAB_BIN_DIR`, else beside the running program (the
/// build folder, for `tcplab` and for `swift test`'s test bundle), else on PATH.
public enum LabBinaries {
    public static func path(_ name: String) throws -> String {
        var candidates: [String] = []
        if let directory = ProcessInfo.processInfo.environment["TCPLAB_BIN_DIR"] {
            candidates.append(directory + "/" + name)
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // Test bundles live at .build/debug/TCPLabPackageTests.xctest; products are beside the bundle.
        for _ in 0..<3 {
            candidates.append(directory.appendingPathComponent(name).path)
            directory = directory.deletingLastPathComponent()
        }
        for path in ProcessInfo.processInfo.environment["PATH", default: ""].split(separator: ":") {
            candidates.append("\(path)/\(name)")
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return found
        }
        throw LabError.unexpected("cannot find the \(name) executable: run `swift build` first or set TCPLAB_BIN_DIR")
    }
}
