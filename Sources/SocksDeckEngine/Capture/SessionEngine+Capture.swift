import Foundation

extension SessionEngine {
    /// Whether this engine keeps captures in memory (the TUI's `w`).
    package var capturesInMemory: Bool {
        if case .ring = captureMode { return true }
        return false
    }

    /// Writes association `id`'s capture so far to `path` as a pcapng file (ring mode only).
    /// The file is written off the engine's loop.
    package func writeCapture(_ id: AssociationID, to path: String) async throws(EngineError) -> CaptureWriteSummary {
        guard capturesInMemory else {
            throw .invalidArgument("this engine does not keep captures (start it with a capture ring)")
        }
        let taken = try await onLoop { core -> Result<(bytes: [UInt8], packets: Int, dropped: Int), EngineError> in
            guard let association = core.associations[id] else { return .failure(.unknownAssociation(id)) }
            guard let file = association.subscribers(of: AssociationCapturer.self).first?.fileBytes() else {
                return .failure(.invalidArgument("association \(id) was opened before capturing began"))
            }
            return .success(file)
        }
        let file = try taken.get()
        do {
            try CaptureFile.writeWhole(file.bytes, to: path)
        } catch {
            throw .invalidArgument(error.description)
        }
        return CaptureWriteSummary(packets: file.packets, bytes: file.bytes.count, droppedFromRing: file.dropped)
    }
}
