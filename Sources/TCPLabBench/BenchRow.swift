import Foundation
import TCPLabSystem

/// One line of the results table: a TCPLab figure beside the baseline a user would otherwise pick.
/// `ratio` is always "times better than the baseline" (> 1 means TCPLab wins), whatever the unit.
struct BenchRow: Codable, Sendable {
    var metric: String
    var tcplab: String
    var baseline: String
    var ratio: Double?
    var goal: String
    /// nil: no goal, or skipped.
    var met: Bool?
    /// Why a measurement was skipped, or a short remark on how it was measured.
    var note: String?

    static func skipped(_ metric: String, goal: String, reason: String) -> BenchRow {
        BenchRow(metric: metric, tcplab: "skipped", baseline: "—", ratio: nil, goal: goal, met: nil, note: reason)
    }

    /// TCPLab's figure against a baseline's: `ratio` is how many times better TCPLab does (the
    /// caller divides the right way round), met when it reaches `atLeast` ("≥ 3×"; nil: no goal,
    /// "—"). The goal's text and its test come from the one number, so they cannot drift apart.
    static func versus(_ metric: String, tcplab: String, baseline: String, ratio: Double, atLeast goal: Double?,
                       note: String) -> BenchRow {
        BenchRow(metric: metric, tcplab: tcplab, baseline: baseline, ratio: ratio,
                 goal: goal.map { "≥ \(String(format: "%g", $0))×" } ?? "—", met: goal.map { ratio >= $0 }, note: note)
    }

    /// Prints the row as one JSON line on stdout, where scripts/bench collects it.
    func emit() {
        JSONLines.emit(self)
    }
}

/// Human units for the table cells.
enum Format {
    static func milliseconds(_ value: Double) -> String {
        if value < 0.01 { return String(format: "%.1f µs", value * 1000) }
        if value < 10 { return String(format: "%.2f ms", value) }
        if value < 10_000 { return String(format: "%.0f ms", value) }
        return String(format: "%.1f s", value / 1000)
    }

    static func microseconds(_ value: Double) -> String {
        value < 1000 ? String(format: "%.1f µs", value) : milliseconds(value / 1000)
    }

    static func rate(_ mebibytesPerSecond: Double) -> String { String(format: "%.0f MiB/s", mebibytesPerSecond) }

    static func count(_ value: Double, unit: String) -> String {
        if value >= 10_000 { return String(format: "%.1fk %@", value / 1000, unit) }
        return String(format: "%.0f %@", value, unit)
    }

    static func ratio(_ value: Double) -> String { value >= 10 ? String(format: "%.0f×", value) : String(format: "%.2f×", value) }
}
