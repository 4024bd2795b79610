import ArgumentParser
import Foundation
import SocksDeckEngine

/// `--pcap FILE`, for every command that opens associations: the session written as pcapng as
/// it happens (the wire view and the inner view of each association; see PcapNG).
struct CaptureOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Write a pcapng capture of the session to FILE (open it with Wireshark or tshark).",
            valueName: "FILE"
        )
    )
    var pcap: String?

    /// Opens the file before anything is sent: a path that cannot be written is said at once
    /// (exit 73) rather than after the session.
    func open(rotateAtBytes: Int? = nil, keep: Int = 10) throws -> OpenCapture {
        guard let pcap else { return OpenCapture(file: nil) }
        do {
            return OpenCapture(file: try CaptureFile(path: pcap, rotateAtBytes: rotateAtBytes, keep: keep))
        } catch {
            Output.error(error.description)
            throw Exit.cannotCreate
        }
    }
}

/// A capture file being written, or none.
struct OpenCapture {
    let file: CaptureFile?

    var mode: CaptureMode { file.map { .file($0) } ?? .off }

    /// Closes the file and says on stderr what it holds (stdout stays the command's, JSON too).
    func finish() {
        guard let file else { return }
        file.finish()
        let files = file.files
        let place = files.count == 1 ? files[0] : "\(files.count) files, \(files.first!) to \(files.last!)"
        Output.error("capture: \(file.packetsWritten) packet(s) written to \(place)")
    }
}
