import Foundation

/// Writes a drawn ladder, report page or plot to a file (atomically: a reader never sees half a
/// picture), with an error that names the file and says why.
public enum PictureFile {
    public static func write(_ text: String, to path: String) throws(PictureFileError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw PictureFileError(path: path, reason: (error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
    }
}

/// A picture or report file could not be written.
public struct PictureFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}
