import Foundation
import PcapNG

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
public final class CaptureFile: CaptureSink, @unchecked Sendable {
    public let path: String
    public let rotateAtBytes: Int?
    public let keep: Int
    private let lock = NSLock()
    private var descriptor: Int32
    private var writer = PcapNGWriter()
    private var bytesInFile = 0
    private var index = 0
    private var written: [String]
    /// Why capturing stopped, if it did ("finished" once `finish` was called).
    public private(set) var failure: String?
    /// Why a write failed, if one did: the capture holds less than the session.
    public var writeFailure: String? { lock.withLock { failedWriting } }
    private var failedWriting: String?
    public private(set) var packetsWritten = 0
    private var lastErrno: Int32 = 0

    /// Creates (or truncates) `path`; throws a sentence saying why it cannot.
    public init(path: String, rotateAtBytes: Int? = nil, keep: Int = 10) throws(CaptureFileError) {
        self.path = path
        self.rotateAtBytes = rotateAtBytes
        self.keep = max(keep, 1)
        descriptor = try Self.create(path)
        written = [path]
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    private var engines = 0

    /// A number for each engine that writes here, so that associations of several engines (one
    /// per server probed) keep apart: the first engine's are `socksdeck-3`, the second's `socksdeck-2.3`.
    public func registerProducer() -> Int {
        lock.withLock {
            engines += 1
            return engines
        }
    }

    /// The files written so far, oldest first (one unless it rotated).
    public var files: [String] { lock.withLock { written } }

    /// Frames and writes `packets` of association `key`.
    public func write(_ packets: [CapturedPacket], of key: String, label: String, serverPort: UInt16? = nil) {
        guard !packets.isEmpty else { return }
        lock.withLock {
            guard failure == nil else { return }
            if let limit = rotateAtBytes, bytesInFile > 0, bytesInFile >= limit { rotate() }
            guard failure == nil else { return }
            let bytes = writer.encode(packets, of: key, label: label, serverPort: serverPort)
            if writeAll(bytes) { packetsWritten += packets.count }
        }
    }

    /// Flushes and closes the file; later writes are ignored.
    public func finish() {
        lock.withLock {
            if descriptor >= 0 {
                fsync(descriptor)
                close(descriptor)
                descriptor = -1
            }
            if failure == nil { failure = "finished" }
        }
    }

    /// The name of rotated file `n`: `capture.pcapng` → `capture-1.pcapng`.
    public static func rotatedName(_ path: String, _ n: Int) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        return ext.isEmpty ? "\(stem)-\(n)" : "\(stem)-\(n).\(ext)"
    }

    /// Writes a whole capture (`SessionEngine.writeCapture`) in one go.
    public static func writeWhole(_ bytes: [UInt8], to path: String) throws(CaptureFileError) {
        let file = try CaptureFile(path: path)
        file.lock.withLock { file.writeAll(bytes) }
        let failure = file.failure
        file.finish()
        if let failure { throw CaptureFileError(path: path, errno: file.lastErrno, sentence: failure) }
    }

    private func rotate() {
        close(descriptor)
        descriptor = -1
        index += 1
        let next = Self.rotatedName(path, index)
        do {
            descriptor = try Self.create(next)
        } catch {
            failure = error.description
            return
        }
        written.append(next)
        while written.count > keep { unlink(written.removeFirst()) }
        writer = PcapNGWriter()
        bytesInFile = 0
    }

    /// Writes `bytes` whole, or cuts the file back to where they began and stops the capture: a
    /// block written in part would make the whole file unreadable from there on.
    @discardableResult
    private func writeAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                lastErrno = errno
                let why = "cannot write \(written.last ?? path): \(String(cString: strerror(errno)))"
                failure = why
                failedWriting = why
                if offset > 0 { _ = ftruncate(descriptor, off_t(bytesInFile)) }
                return false
            }
            offset += n
        }
        bytesInFile += bytes.count
        return true
    }

    private static func create(_ path: String) throws(CaptureFileError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CaptureFileError(path: path, errno: errno) }
        return fd
    }
}

/// A capture file that could not be created, in words.
public struct CaptureFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let errno: Int32
    public let description: String

    init(path: String, errno: Int32, sentence: String? = nil) {
        self.path = path
        self.errno = errno
        description = sentence ?? "cannot create \(path): \(String(cString: strerror(errno)))"
    }
}
