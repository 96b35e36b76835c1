@testable import FaultProxyServe
import XCTest

/// The toxic chain without sockets: which bytes leave when, for each of toxiproxy's toxics.
final class ServeToxicPipelineTests: XCTestCase {
    let ms: UInt64 = 1_000_000

    func toxic(_ json: String) throws -> Toxic {
        try Toxic.parseNew(try JSONValue.parse(Array(json.utf8)))
    }

    func pipeline(_ toxics: [Toxic], roll: Float = 0) -> ToxicPipeline {
        var pipeline = ToxicPipeline()
        pipeline.configure(toxics, now: 0) { roll }
        return pipeline
    }

    func testLatencyCountsFromTheReadAndJitterStaysWithinItsBounds() throws {
        var chain = pipeline([try toxic(#"{"type":"latency","attributes":{"latency":100,"jitter":10}}"#)])
        let low = chain.process([1, 2, 3], now: 5 * ms) { _ in 0 }
        XCTAssertEqual(low, [.init(bytes: [1, 2, 3][...], due: 95 * ms)])  // 5 + 100 - 10
        let high = chain.process([4], now: 5 * ms) { bound in bound - 1 }
        XCTAssertEqual(high.first?.due, 115 * ms - 1)
    }

    func testBandwidthSpacesSlicesAtTheRate() throws {
        // 10 KB/s = 10 bytes per ms; slices of 100 ms (1000 bytes).
        var chain = pipeline([try toxic(#"{"type":"bandwidth","attributes":{"rate":10}}"#)])
        let pieces = chain.process(Array(repeating: 0, count: 2500), now: 0) { _ in 0 }
        XCTAssertEqual(pieces.map(\.bytes.count), [1000, 1000, 500])
        XCTAssertEqual(pieces.map(\.due), [100 * ms, 200 * ms, 250 * ms])
        // The next chunk queues behind the first (the link stays at the rate).
        XCTAssertEqual(chain.process([0], now: 10 * ms) { _ in 0 }.first?.due, 250 * ms + 100_000)
    }

    func testSlicerCutsAroundTheAverageAndSpacesBySlices() throws {
        var chain = pipeline([try toxic(#"{"type":"slicer","attributes":{"average_size":10,"size_variation":2,"delay":1000}}"#)])
        let pieces = chain.process(Array(0..<100), now: 0) { bound in bound / 2 }
        XCTAssertEqual(pieces.flatMap { Array($0.bytes) }, Array(0..<100), "slices must keep every byte in order")
        XCTAssertTrue(pieces.allSatisfy { $0.bytes.count <= 12 }, "\(pieces.map(\.bytes.count))")
        XCTAssertEqual(pieces.map(\.due), (0..<UInt64(pieces.count)).map { $0 * 1000 * 1000 })
    }

    func testLimitDataTruncatesAndClosesOnceItsCountIsThrough() throws {
        var chain = pipeline([try toxic(#"{"type":"limit_data","attributes":{"bytes":5}}"#)])
        XCTAssertEqual(chain.process([1, 2, 3], now: 0) { _ in 0 }.map(\.bytes.count), [3])
        XCTAssertFalse(chain.closeWhenFlushed)
        XCTAssertEqual(chain.process([4, 5, 6, 7], now: 0) { _ in 0 }.flatMap { Array($0.bytes) }, [4, 5])
        XCTAssertTrue(chain.closeWhenFlushed)
        // A changed toxic keeps what was already sent (toxiproxy's per-link state).
        chain.configure([try toxic(#"{"type":"limit_data","attributes":{"bytes":6}}"#)], now: 0) { 0 }
        XCTAssertEqual(chain.process([8, 9], now: 0) { _ in 0 }.flatMap { Array($0.bytes) }, [8])
    }

    func testTimeoutAndResetPeerDropDataAndSetTheirDeadlines() throws {
        var timeout = pipeline([try toxic(#"{"type":"timeout","attributes":{"timeout":300}}"#)])
        XCTAssertEqual(timeout.process([1], now: 10 * ms) { _ in 0 }, [])
        XCTAssertEqual(timeout.deadline?.at, 300 * ms)
        XCTAssertEqual(timeout.deadline?.ending, .close)
        var reset = pipeline([try toxic(#"{"type":"reset_peer","attributes":{"timeout":200}}"#)])
        XCTAssertNil(reset.deadline, "reset_peer waits for the first data")
        XCTAssertEqual(reset.process([1], now: 50 * ms) { _ in 0 }, [])
        XCTAssertEqual(reset.deadline?.at, 250 * ms)
        XCTAssertEqual(reset.deadline?.ending, .reset)
        let forever = pipeline([try toxic(#"{"type":"timeout","attributes":{"timeout":0}}"#)])
        XCTAssertNil(forever.deadline, "timeout 0 drops data but never closes")
    }

    func testToxicityZeroLeavesTheDirectionTransparentForSplice() throws {
        let off = pipeline([try toxic(#"{"type":"latency","toxicity":0,"attributes":{"latency":100}}"#)], roll: 0.5)
        XCTAssertTrue(off.isTransparent)
        let on = pipeline([try toxic(#"{"type":"latency","toxicity":1,"attributes":{"latency":0}}"#)], roll: 0.5)
        XCTAssertFalse(on.isTransparent)
        XCTAssertEqual(pipeline([try toxic(#"{"type":"slow_close","attributes":{"delay":40}}"#)]).closeDelayNanoseconds, 40 * ms)
    }
}
