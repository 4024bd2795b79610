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

/// For the commands that run until stopped (`watch`, `serve`): the capture in files of a bounded
/// size, the oldest deleted, so that a week-long run does not fill the disk.
struct CaptureRotationOptions: ParsableArguments {
    @Option(
        name: .customLong("pcap-rotate"),
        help: ArgumentHelp("With --pcap: begin a new file when one reaches this many megabytes.", valueName: "MB")
    )
    var pcapRotate = 100
    @Option(
        name: .customLong("pcap-keep"),
        help: ArgumentHelp(
            "With --pcap: how many files to keep (FILE, then FILE-1.pcapng, …; the oldest are deleted).",
            valueName: "N"
        )
    )
    var pcapKeep = 10

    func validate() throws {
        if !(1...100_000).contains(pcapRotate) { throw ValidationError("--pcap-rotate takes 1 to 100000 MB") }
        if !(1...10_000).contains(pcapKeep) { throw ValidationError("--pcap-keep takes 1 to 10000 files") }
    }

    func open(_ capture: CaptureOptions) throws -> OpenCapture {
        try capture.open(rotateAtBytes: pcapRotate * 1_000_000, keep: pcapKeep)
    }
}

/// A capture file being written, or none.
struct OpenCapture {
    let file: CaptureFile?

    var mode: CaptureMode { file.map { .file($0) } ?? .off }

    /// Closes the file and says on stderr what it holds (stdout stays the command's, JSON too).
    /// A capture that could not be written whole is evidence lost: said, and the command ends
    /// with EX_IOERR (74) whatever it would have returned, the file cut back to its last whole
    /// block so that what it holds still opens.
    func finish() {
        guard let file else { return }
        file.finish()
        let files = file.files
        let place = files.count == 1 ? files[0] : "\(files.count) files, \(files.first!) to \(files.last!)"
        guard let failure = file.writeFailure else {
            Output.error("capture: \(file.packetsWritten) packet(s) written to \(place)")
            return
        }
        Output.error(
            "capture: \(failure); only the first \(file.packetsWritten) packet(s) are in \(place), which ends at the "
                + "last whole block (the capture is incomplete)"
        )
        exit(74)
    }
}
