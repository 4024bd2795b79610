import Foundation
import PcapNG
import PcapReplay
import Socks5
import Testing

@testable import SocksDeckEngine

/// The capture file: rotation within its bounds, each file whole, and libpcap reading back
/// exactly what was written, to the nanosecond.
@Suite struct CaptureFileTests {
    static let a = IPEndpoint(.v4(.loopback), port: 40_000)
    static let b = IPEndpoint(.v4(.loopback), port: 7)

    static func datagram(_ i: Int, _ capture: inout AssociationCapture) -> [CapturedPacket] {
        let payload = [UInt8](repeating: UInt8(i & 0xFF), count: 200)
        return capture.datagram(
            wire: nil,
            inner: UDPFlow(from: a, to: b, payload: payload),
            at: 1_000_000_000 + UInt64(i)
        )
    }

    @Test func rotationKeepsTheNewestFilesEachACompleteCapture() throws {
        let dir = try makeTemporaryDirectory("rotate")
        let file = try CaptureFile(path: dir + "/watch.pcapng", rotateAtBytes: 2_000, keep: 3)
        var capture = AssociationCapture(label: "#1")
        for i in 0..<60 { file.write(Self.datagram(i, &capture), of: "1", label: "#1") }
        file.finish()
        #expect(file.failure == "finished")
        #expect(file.packetsWritten == 60)
        let files = file.files
        #expect(files.count == 3)
        #expect(files.allSatisfy { $0.hasPrefix(dir + "/watch-") && $0.hasSuffix(".pcapng") })
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(onDisk.count == 3)
        #expect(!onDisk.contains("watch.pcapng"))  // the oldest went
        var total = 0
        for path in files {
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            #expect(size <= 2_000 + 400)
            let contents = try CaptureReader.read(path)
            total += contents.entries.count
        }
        // The newest three files hold the last datagrams, none twice.
        #expect(total > 0 && total < 60)
        let last = try CaptureReader.read(files.last!)
        #expect(last.entries.last?.datagram.payload.first == UInt8(59))
        #expect(CaptureFile.rotatedName("/x/watch.pcapng", 2) == "/x/watch-2.pcapng")
        #expect(CaptureFile.rotatedName("/x/watch", 1) == "/x/watch-1")
    }

    @Test func libpcapReadsBackWhatWasWrittenToTheNanosecond() throws {
        let path = try makeTemporaryDirectory("roundtrip") + "/one.pcapng"
        let file = try CaptureFile(path: path)
        var capture = AssociationCapture(label: "#1")
        var expected: [CapturedDatagram] = []
        for i in 0..<5 {
            file.write(Self.datagram(i, &capture), of: "1", label: "#1")
            expected.append(
                CapturedDatagram(source: Self.a, destination: Self.b, payload: [UInt8](repeating: UInt8(i), count: 200))
            )
        }
        file.finish()
        let contents = try CaptureReader.read(path, filter: "udp dst port 7")
        #expect(contents.entries.map(\.datagram) == expected)
        #expect(contents.entries.map(\.time) == (0..<5).map { 1_000_000_000 + UInt64($0) })
    }

    @Test func aPathThatCannotBeCreatedSaysWhy() {
        #expect(throws: CaptureFileError.self) { try CaptureFile(path: "/nonexistent-dir/x.pcapng") }
        do {
            _ = try CaptureFile(path: "/nonexistent-dir/x.pcapng")
        } catch {
            #expect(error.description == "cannot create /nonexistent-dir/x.pcapng: No such file or directory")
        }
    }
}
