import Foundation
import SocksDeckEngine

extension DeckController {
    /// `w`: the selected association's capture so far, to a pcapng file named after it, and a
    /// status line that says where and how to open it.
    func writeCapture() async {
        guard let a = model.selectedAssociationSnapshot else {
            say("no association selected", .warning)
            return
        }
        guard engine.capturesInMemory else {
            say("captures are off (--capture-ring 0): start socksdeck ui without it to use w", .warning)
            return
        }
        let path = captureDirectory + "/" + Self.captureFileName(server: a.serverName, id: a.id.value, at: Date())
        do {
            let written = try await engine.writeCapture(a.id, to: path)
            let dropped = written.droppedFromRing == 0 ? "" : ", ring let \(written.droppedFromRing) older go"
            say("#\(a.id.value): \(written.packets) packets\(dropped) → \(path)", for: .seconds(20))
        } catch {
            say("\(error)", .error)
        }
    }

    /// `socksdeck-dante-3-20261202-014502.pcapng`: sorts by time, says which association.
    static func captureFileName(server: String, id: Int, at date: Date) -> String {
        let safe = String(server.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "socksdeck-\(safe)-\(id)-\(formatter.string(from: date)).pcapng"
    }
}
