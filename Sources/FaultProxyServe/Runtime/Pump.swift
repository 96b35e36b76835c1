import CTCPLabShim
import DequeModule
import Glibc
import SystemPackage
import TCPLabSystem

/// One direction of a proxied connection on its own thread: source → toxics → destination.
///
/// With no active toxic it splices (socket → pipe → socket, no copy into userspace), like
/// faultproxy's relay. With toxics it reads chunks, asks the ToxicPipeline when each piece is
/// due, and writes pieces in order when their time comes. Both sockets are non-blocking and the
/// thread sleeps in ppoll on the source, the destination (while a write waits for room), its
/// WakeSignal and the next due time, so a toxic added or removed acts on the next byte, and a
/// timer toxic (timeout, reset_peer) fires even on an idle connection.
final class Pump: @unchecked Sendable {  // used by its own thread only, after start
    static let chunkBytes = 128 * 1024
    static let pipeBytes = 1 << 20
    /// Most bytes held for toxics before the pump stops reading (the sender then sees a full window).
    static let queueLimit = 8 << 20

    let stream: ToxicStream
    let source: Socket
    let destination: Socket
    let wake: WakeSignal
    unowned let connection: ProxyConnection

    private var pipeline = ToxicPipeline()
    private var seenVersion = UInt64.max
    private var queue = Deque<ToxicPipeline.Piece>()
    private var queuedBytes = 0
    private var pipe: (read: Int32, write: Int32) = (-1, -1)
    private var piped = 0
    private var blockedOnWrite = false
    private var sourceEndedAt: UInt64?
    private var generator = SystemRandomNumberGenerator()

    init(stream: ToxicStream, source: Socket, destination: Socket, wake: WakeSignal, connection: ProxyConnection) {
        self.stream = stream
        self.source = source
        self.destination = destination
        self.wake = wake
        self.connection = connection
    }

    /// Runs until the direction ends; then tells the connection why.
    func run() {
        var ends: [Int32] = [-1, -1]
        guard tcplab_pipe_nonblocking(&ends) == 0 else { return connection.pumpEnded(self, .failed) }
        _ = tcplab_set_pipe_size(ends[1], Int32(Self.pipeBytes))
        pipe = (ends[0], ends[1])
        let outcome = loop()
        Glibc.close(pipe.read)
        Glibc.close(pipe.write)
        connection.pumpEnded(self, outcome)
    }

    enum Outcome { case finished, failed, terminated, ending(ToxicPipeline.Ending) }

    private var idle: Bool { piped == 0 && queue.isEmpty }

    private func loop() -> Outcome {
        var buffer = [UInt8](repeating: 0, count: Self.chunkBytes)
        while true {
            if connection.isTerminated { return .terminated }
            refreshToxics()
            let now = MonotonicClock.now()
            if let deadline = pipeline.deadline, deadline.at <= now { return .ending(deadline.ending) }
            do { try flush(now: now) } catch { return .failed }
            if pipeline.closeWhenFlushed, idle { return .ending(.close) }
            if let ended = sourceEndedAt, idle, now >= ended + pipeline.closeDelayNanoseconds {
                try? destination.shutdown(.write)
                return .finished
            }
            if waitForWork(now: now) {
                do { try readSource(into: &buffer) } catch { return .failed }
            }
        }
    }

    private func refreshToxics() {
        guard connection.board.version.load(ordering: .acquiring) != seenVersion else { return }
        let (version, toxics) = connection.board.chain(stream)
        seenVersion = version
        pipeline.configure(toxics, now: MonotonicClock.now()) { Float.random(in: 0..<1, using: &generator) }
    }

    /// Sleeps until something is to be done; true when the source has bytes (or its end) to read.
    private func waitForWork(now: UInt64) -> Bool {
        var fds = [pollfd(fd: wake.descriptor, events: Int16(POLLIN), revents: 0)]
        let reading = sourceEndedAt == nil && queuedBytes < Self.queueLimit && piped < Self.pipeBytes
        if reading { fds.append(pollfd(fd: source.rawValue, events: Int16(POLLIN), revents: 0)) }
        if blockedOnWrite { fds.append(pollfd(fd: destination.rawValue, events: Int16(POLLOUT), revents: 0)) }
        var wakeAt: UInt64?
        if !blockedOnWrite, let head = queue.first { wakeAt = head.due }
        if let deadline = pipeline.deadline { wakeAt = min(wakeAt ?? .max, deadline.at) }
        if let ended = sourceEndedAt, idle { wakeAt = min(wakeAt ?? .max, ended + pipeline.closeDelayNanoseconds) }
        Poll.wait(&fds, timeoutNanoseconds: wakeAt.map { $0 > now ? $0 - now : 0 })
        if fds[0].revents != 0 { wake.drain() }
        return reading && fds[1].revents != 0
    }

    private func readSource(into buffer: inout [UInt8]) throws(SystemCallError) {
        if pipeline.isTransparent, queue.isEmpty {
            let room = Self.pipeBytes - piped
            let moved = tcplab_splice(source.rawValue, pipe.write, room, 0)
            if moved > 0 { piped += moved } else if moved == 0 { sourceEndedAt = MonotonicClock.now() }
            else if errno != EAGAIN { throw SystemCallError(Errno(rawValue: errno), call: "splice(socket → pipe)") }
            return
        }
        // withUnsafe*Bytes rethrow untyped errors: carry the typed one out in a Result.
        let count = try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(SystemCallError) -> Int? in try source.read(into: raw) }
        }.get()
        guard let count else { return }
        let now = MonotonicClock.now()
        if count == 0 { sourceEndedAt = now; return }
        let pieces = pipeline.process(Array(buffer[0..<count]), now: now) { bound in
            bound > 0 ? Int64.random(in: 0..<bound, using: &generator) : 0
        }
        for piece in pieces {
            queue.append(piece)
            queuedBytes += piece.bytes.count
        }
    }

    /// Writes what is due: first what waits in the pipe (older bytes), then due pieces.
    private func flush(now: UInt64) throws(SystemCallError) {
        blockedOnWrite = false
        while piped > 0 {
            let moved = tcplab_splice(pipe.read, destination.rawValue, piped, 0)
            if moved > 0 {
                piped -= moved
                connection.counters.add(stream, moved)
            } else if moved < 0, errno == EAGAIN {
                blockedOnWrite = true
                return
            } else if moved == 0 {
                piped = 0
            } else {
                throw SystemCallError(Errno(rawValue: errno), call: "splice(pipe → socket)")
            }
        }
        while let head = queue.first, head.due <= now {
            let written = try head.bytes.withUnsafeBytes { raw in
                Result { () throws(SystemCallError) -> Int? in try destination.write(raw) }
            }.get()
            guard let written else { blockedOnWrite = true; return }
            connection.counters.add(stream, written)
            queuedBytes -= written
            if written == head.bytes.count { queue.removeFirst() } else { queue[0].bytes = head.bytes.dropFirst(written) }
        }
    }
}
