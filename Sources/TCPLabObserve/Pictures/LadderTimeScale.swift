import Foundation

/// Where a time goes on a picture's vertical axis. Every segment gets a row of its own, in
/// timeline order, and the gap before a row grows with the logarithm of the time it spans, so
/// microsecond handshakes and a 60 s TIME_WAIT fit one picture and a longer wait still looks
/// longer. The axis is not linear: every row is labelled with its exact time instead. Times
/// between rows (state changes, judged expectations) are placed by linear interpolation.
public struct LadderTimeScale: Sendable {
    /// (time µs since the epoch, y) for each row, in order; y strictly increasing.
    public let knots: [(time: Int64, y: Double)]
    public let rowGap: Double
    /// Pixels per decade of gap (1 ms → 10 ms adds this much).
    public let decade: Double

    public init(rowTimes: [Int64], top: Double, rowGap: Double = 24, decade: Double = 14) {
        self.rowGap = rowGap
        self.decade = decade
        var knots: [(Int64, Double)] = []
        for time in rowTimes {
            if let last = knots.last {
                knots.append((time, last.1 + Self.gap(time - last.0, rowGap: rowGap, decade: decade)))
            } else {
                knots.append((time, top))
            }
        }
        self.knots = knots
    }

    /// The height a gap of `microseconds` takes: a row, plus `decade` per factor of ten over 100 µs.
    static func gap(_ microseconds: Int64, rowGap: Double, decade: Double) -> Double {
        rowGap + decade * log10(1 + Double(max(0, microseconds)) / 100)
    }

    /// y of the row `index`.
    public func y(row index: Int) -> Double { knots[index].y }

    /// y of any time: interpolated between the rows around it, extended past the first and last.
    public func y(at time: Int64) -> Double {
        guard let first = knots.first, let last = knots.last else { return 0 }
        if time <= first.time {
            return first.y - (time < first.time ? Self.gap(first.time - time, rowGap: rowGap, decade: decade) - rowGap : 0)
        }
        if time >= last.time {
            return last.y + (time > last.time ? Self.gap(time - last.time, rowGap: rowGap, decade: decade) : 0)
        }
        // The last row at or before `time`, and the first after it.
        var low = 0
        var high = knots.count - 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if knots[mid].time <= time { low = mid } else { high = mid }
        }
        let a = knots[low]
        let b = knots[high]
        guard b.time > a.time else { return a.y }
        return a.y + (b.y - a.y) * Double(time - a.time) / Double(b.time - a.time)
    }
}
