/// What one direction of a connection does to its bytes: toxiproxy's toxic chain, as a pure
/// function from (chunk, arrival time) to pieces with release times. The pump (Runtime/Pump)
/// reads, asks the pipeline, and writes each piece when it is due; tests drive it without sockets.
///
/// Times are CLOCK_MONOTONIC nanoseconds. As in toxiproxy, latency counts from when the chunk was
/// read (not from when an earlier toxic let it go), bandwidth spaces pieces at `rate` KB/s
/// (1 KB = 1000 bytes) in slices of at most 100 ms, and the slicer spaces its slices `delay` µs apart.
struct ToxicPipeline {
    struct Piece: Equatable {
        var bytes: ArraySlice<UInt8>
        var due: UInt64
    }

    /// A toxic on this connection's direction, with its per-connection state.
    struct Stage {
        let toxic: Toxic
        /// toxicity, rolled when the stage starts (per connection, as toxiproxy does per link).
        let active: Bool
        let startedAt: UInt64
        var bandwidthFreeAt: UInt64 = 0
        var limitSent: Int64 = 0
        var resetAt: UInt64?
    }

    enum Ending: Equatable { case close, reset }

    private(set) var stages: [Stage] = []
    /// limit_data reached its count: close once what it let through is written.
    private(set) var closeWhenFlushed = false

    /// Replaces the chain with `toxics` (this direction's, in the proxy's order). A toxic whose
    /// settings did not change keeps its state and its toxicity roll; limit_data keeps its count.
    mutating func configure(_ toxics: [Toxic], now: UInt64, roll: () -> Float) {
        let previous = stages
        stages = toxics.filter { !$0.type.isSegmentToxic }.map { toxic in
            if let kept = previous.first(where: { $0.toxic == toxic }) { return kept }
            var stage = Stage(toxic: toxic, active: roll() < toxic.toxicity, startedAt: now)
            stage.limitSent = previous.first { $0.toxic.name == toxic.name }?.limitSent ?? 0
            return stage
        }
    }

    /// No toxic acts here: the pump may splice.
    var isTransparent: Bool { !stages.contains { $0.active } }

    /// The earliest moment a timer toxic ends the connection (timeout, reset_peer), if any.
    var deadline: (at: UInt64, ending: Ending)? {
        var best: (at: UInt64, ending: Ending)?
        for stage in stages where stage.active {
            var candidate: (UInt64, Ending)?
            switch stage.toxic.type {
            case .timeout:
                let millis = stage.toxic.attributes.integer("timeout")
                if millis > 0 { candidate = (stage.startedAt + UInt64(millis) * 1_000_000, .close) }
            case .resetPeer:
                if let at = stage.resetAt { candidate = (at, .reset) }
            default: break
            }
            if let candidate, best == nil || candidate.0 < best!.at { best = candidate }
        }
        return best
    }

    /// How long to hold the close after the source's end of stream (slow_close).
    var closeDelayNanoseconds: UInt64 {
        stages.filter { $0.active && $0.toxic.type == .slowClose }
            .map { UInt64(max(0, $0.toxic.attributes.integer("delay"))) * 1_000_000 }.max() ?? 0
    }

    /// Runs one chunk read at `now` through the active toxics.
    mutating func process(_ chunk: [UInt8], now: UInt64, random: (Int64) -> Int64) -> [Piece] {
        var pieces = [Piece(bytes: chunk[...], due: now)]
        for index in stages.indices where stages[index].active && !pieces.isEmpty {
            pieces = apply(index, to: pieces, now: now, random: random)
        }
        return pieces
    }

    private mutating func apply(_ index: Int, to pieces: [Piece], now: UInt64, random: (Int64) -> Int64) -> [Piece] {
        let attributes = stages[index].toxic.attributes
        switch attributes.type {
        case .latency:
            let jitter = attributes.integer("jitter")
            return pieces.map { piece in
                var delay = attributes.integer("latency") * 1_000_000
                if jitter > 0 { delay += random(2 * jitter * 1_000_000) - jitter * 1_000_000 }
                return Piece(bytes: piece.bytes, due: max(piece.due, now &+ UInt64(max(0, delay))))
            }
        case .bandwidth:
            return throttle(index, pieces, rate: attributes.integer("rate"))
        case .slicer:
            return Self.slice(pieces, average: Int(attributes.integer("average_size")),
                              variation: Int(attributes.integer("size_variation")),
                              delayNanoseconds: UInt64(max(0, attributes.integer("delay"))) * 1000, random: random)
        case .limitData:
            return limit(index, pieces, bytes: attributes.integer("bytes"))
        case .timeout:
            return []
        case .resetPeer:
            if stages[index].resetAt == nil {
                stages[index].resetAt = now + UInt64(max(0, attributes.integer("timeout"))) * 1_000_000
            }
            return []
        case .slowClose, .drop, .delay, .duplicate:
            return pieces
        }
    }

    private mutating func throttle(_ index: Int, _ pieces: [Piece], rate: Int64) -> [Piece] {
        guard rate > 0 else { return pieces }
        let sliceBytes = Int(max(1, rate * 100))  // 100 ms worth
        var out: [Piece] = []
        var clock = stages[index].bandwidthFreeAt
        for piece in pieces {
            clock = max(clock, piece.due)
            var start = piece.bytes.startIndex
            while start < piece.bytes.endIndex {
                let end = min(start + sliceBytes, piece.bytes.endIndex)
                clock += UInt64(end - start) * 1_000_000 / UInt64(rate)
                out.append(Piece(bytes: piece.bytes[start..<end], due: clock))
                start = end
            }
        }
        stages[index].bandwidthFreeAt = clock
        return out
    }

    private mutating func limit(_ index: Int, _ pieces: [Piece], bytes: Int64) -> [Piece] {
        var out: [Piece] = []
        for piece in pieces {
            let remaining = max(0, bytes - stages[index].limitSent)
            let taken = piece.bytes.prefix(Int(min(Int64(piece.bytes.count), remaining)))
            if !taken.isEmpty {
                out.append(Piece(bytes: taken, due: piece.due))
                stages[index].limitSent += Int64(taken.count)
            }
            if bytes - stages[index].limitSent <= 0 {
                closeWhenFlushed = true
                break
            }
        }
        return out
    }

    /// toxiproxy's slicer: halve around the middle ± variation until a slice is within
    /// `variation` of `average`; the slices leave `delay` apart.
    static func slice(_ pieces: [Piece], average: Int, variation: Int, delayNanoseconds: UInt64,
                      random: (Int64) -> Int64) -> [Piece] {
        guard average > 0 else { return pieces }
        var out: [Piece] = []
        for piece in pieces {
            var bounds: [Range<Int>] = []
            var pending = [piece.bytes.startIndex..<piece.bytes.endIndex]
            while let range = pending.popLast() {  // depth-first, right half pushed first
                if range.count - average <= variation || range.count < 2 {
                    bounds.append(range)
                    continue
                }
                let wobble = variation > 0 ? Int(random(Int64(2 * variation))) - variation : 0
                let mid = min(max(range.lowerBound + range.count / 2 + wobble, range.lowerBound + 1), range.upperBound - 1)
                pending.append(mid..<range.upperBound)
                pending.append(range.lowerBound..<mid)
            }
            for (order, range) in bounds.enumerated() {
                out.append(Piece(bytes: piece.bytes[range], due: piece.due + UInt64(order) * delayNanoseconds))
            }
        }
        return out
    }
}
