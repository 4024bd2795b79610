import Foundation
import PcapNG

/// Whether and how the engine captures its associations (pcapng, `PcapNG`).
package enum CaptureMode: Sendable {
    case off
    /// Each association keeps its capture in memory: its control connection whole, and its
    /// latest datagrams up to `bytesPerAssociation` (the oldest give way). The TUI's `w` writes
    /// one out (`SessionEngine.writeCapture`).
    case ring(bytesPerAssociation: Int)
    /// Every association's packets go to one file as they happen (the CLI's `--pcap`).
    case file(CaptureFile)
}

/// What `writeCapture` wrote.
package struct CaptureWriteSummary: Sendable, Equatable {
    package var packets: Int
    package var bytes: Int
    /// Datagrams the ring had to let go of before the file was written.
    package var droppedFromRing: Int
}

/// An association's packets kept in memory for `w`: everything until it is associated (the
/// control connection must stay whole for a reader to decode the SOCKS handshake), then the most
/// recent packets within a byte budget.
struct CaptureRing {
    private let budget: Int
    private var pinned: [CapturedPacket] = []
    private var tail: [CapturedPacket] = []
    private var tailStart = 0
    private var tailBytes = 0
    private(set) var dropped = 0
    private var pinning = true

    init(budget: Int) { self.budget = budget }

    /// The handshake is over: later packets go to the bounded part. The control connection's
    /// close still goes there, which a budget of at least a few packets keeps.
    mutating func stopPinning() { pinning = false }

    mutating func append(_ packets: [CapturedPacket]) {
        guard !pinning else {
            pinned += packets
            return
        }
        for packet in packets {
            tail.append(packet)
            tailBytes += packet.packet.count
            while tailBytes > budget, tailStart < tail.count - 1 {
                tailBytes -= tail[tailStart].packet.count
                tailStart += 1
                dropped += 1
            }
        }
        // Compacts now and then rather than on every drop: amortised O(1) per packet.
        if tailStart > 256, tailStart * 2 > tail.count {
            tail.removeFirst(tailStart)
            tailStart = 0
        }
    }

    /// What the ring holds, in order; the first packet after a gap says how many went before it.
    var packets: [CapturedPacket] {
        var kept = Array(tail[tailStart...])
        if dropped > 0, !kept.isEmpty {
            let gap = "SocksDeck's capture ring (\(budget) bytes) let \(dropped) earlier packet(s) go before this one"
            kept[0].comment = [gap, kept[0].comment].compactMap { $0 }.joined(separator: "; ")
        }
        return pinned + kept
    }
}
