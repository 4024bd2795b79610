import Foundation
import PcapNG
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A pcapng file that grows as the engine (or the relay) captures, optionally rotating: past
/// `rotateAtBytes` the file is closed and the next one begun (`name-1.pcapng`, `name-2.pcapng`,
/// …), each a complete capture of its own with its own section header; at most `keep` files stay.
///
/// Writes are plain write(2) calls on the caller's thread (the engine's event loop): a capture
/// file is local and its writes are small and buffered by the kernel; a full disk stops the
/// capture (with an error in `writeFailure`), never the engine, and the file is cut back to its
/// last whole block, so that what was written still opens.
package final class CaptureFile: CaptureSink, Sendable {
    package let path: String
    package let rotateAtBytes: Int?
    package let keep: Int
    /// The relay's loops and the engines that share one file write from their own threads.
    private let state: Mutex<State>

    private struct State {
        var descriptor: Int32
        var writer = PcapNGWriter()
        var bytesInFile = 0
        var index = 0
        var written: [String]
        var failure: String?
        var failedWriting: String?
        var packetsWritten = 0
        var lastErrno: Int32 = 0
        var producers = 0
    }

    /// Why capturing stopped, if it did ("finished" once `finish` was called).
    package var failure: String? { state.withLock { $0.failure } }
    /// Why a write failed, if one did: the capture holds less than the session.
    package var writeFailure: String? { state.withLock { $0.failedWriting } }
    package var packetsWritten: Int { state.withLock { $0.packetsWritten } }

    /// Creates (or truncates) `path`; throws a sentence saying why it cannot.
    package init(path: String, rotateAtBytes: Int? = nil, keep: Int = 10) throws(CaptureFileError) {
        self.path = path
        self.rotateAtBytes = rotateAtBytes
        self.keep = max(keep, 1)
        state = Mutex(State(descriptor: try Self.create(path), written: [path]))
    }

    deinit {
        state.withLock { if $0.descriptor >= 0 { close($0.descriptor) } }
    }

    /// A number for each engine that writes here, so that associations of several engines (one
    /// per server probed) keep apart: the first engine's are `socksdeck-3`, the second's `socksdeck-2.3`.
    package func registerProducer() -> Int {
        state.withLock {
            $0.producers += 1
            return $0.producers
        }
    }

    /// The files written so far, oldest first (one unless it rotated).
    package var files: [String] { state.withLock { $0.written } }

    /// Frames and writes `packets` of association `key`.
    package func write(_ packets: [CapturedPacket], of key: String, label: String, serverPort: UInt16? = nil) {
        guard !packets.isEmpty else { return }
        state.withLock {
            guard $0.failure == nil else { return }
            if let limit = rotateAtBytes, $0.bytesInFile > 0, $0.bytesInFile >= limit { rotate(&$0) }
            guard $0.failure == nil else { return }
            let bytes = $0.writer.encode(packets, of: key, label: label, serverPort: serverPort)
            if writeAll(bytes, &$0) { $0.packetsWritten += packets.count }
        }
    }

    /// Flushes and closes the file; later writes are ignored.
    package func finish() {
        state.withLock {
            if $0.descriptor >= 0 {
                fsync($0.descriptor)
                close($0.descriptor)
                $0.descriptor = -1
            }
            if $0.failure == nil { $0.failure = "finished" }
        }
    }

    /// The name of rotated file `n`: `capture.pcapng` → `capture-1.pcapng`.
    package static func rotatedName(_ path: String, _ n: Int) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return ext.isEmpty ? "\(stem)-\(n)" : "\(stem)-\(n).\(ext)"
    }

    /// Writes a whole capture (`SessionEngine.writeCapture`) in one go.
    package static func writeWhole(_ bytes: [UInt8], to path: String) throws(CaptureFileError) {
        let file = try CaptureFile(path: path)
        let (failure, lastErrno) = file.state.withLock {
            file.writeAll(bytes, &$0)
            return ($0.failure, $0.lastErrno)
        }
        file.finish()
        if let failure { throw CaptureFileError(path: path, errno: lastErrno, sentence: failure) }
    }

    private func rotate(_ s: inout State) {
        close(s.descriptor)
        s.descriptor = -1
        s.index += 1
        let next = Self.rotatedName(path, s.index)
        do {
            s.descriptor = try Self.create(next)
        } catch {
            s.failure = error.description
            return
        }
        s.written.append(next)
        while s.written.count > keep { unlink(s.written.removeFirst()) }
        s.writer = PcapNGWriter()
        s.bytesInFile = 0
    }

    /// Writes `bytes` whole, or cuts the file back to where they began and stops the capture: a
    /// block written in part would make the whole file unreadable from there on.
    @discardableResult
    private func writeAll(_ bytes: [UInt8], _ s: inout State) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(s.descriptor, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                s.lastErrno = errno
                let why = "cannot write \(s.written.last ?? path): \(String(cString: strerror(errno)))"
                s.failure = why
                s.failedWriting = why
                if offset > 0 { _ = ftruncate(s.descriptor, off_t(s.bytesInFile)) }
                return false
            }
            offset += n
        }
        s.bytesInFile += bytes.count
        return true
    }

    private static func create(_ path: String) throws(CaptureFileError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CaptureFileError(path: path, errno: errno) }
        return fd
    }
}

/// A capture file that could not be created, in words.
package struct CaptureFileError: Error, CustomStringConvertible, Sendable {
    package let path: String
    package let errno: Int32
    package let description: String

    init(path: String, errno: Int32, sentence: String? = nil) {
        self.path = path
        self.errno = errno
        description = sentence ?? "cannot create \(path): \(String(cString: strerror(errno)))"
    }
}
