import ArgumentParser
import Foundation
import PcapNG
import PcapReplay
import Socks5
import SocksDeckEngine

extension ReplayTiming: ExpressibleByArgument {}

/// `send SERVER --replay FILE`: the datagrams of a real capture, through an association.
extension SendCommand {
    func validateReplay() throws {
        if target != nil {
            throw ValidationError(
                "--replay sends each datagram to its own destination: leave TARGET out (or give --rewrite-target)"
            )
        }
        if [text, hex, file, size.map(String.init)].contains(where: { $0 != nil }) {
            throw ValidationError("--replay sends the capture's payloads: leave out --text, --hex, --file and --size")
        }
        if count != 1 || interval != 0 {
            throw ValidationError("--count and --interval do not go with --replay (see --timing)")
        }
        if !(0...600_000).contains(waitReply) { throw ValidationError("--wait-reply takes 0 to 600000 ms") }
        if let rewriteTarget, SOCKSAddress(destination: rewriteTarget) == nil {
            throw ValidationError("--rewrite-target '\(rewriteTarget)' is not host:port ([IPv6]:port)")
        }
    }

    /// Reads the whole capture before anything is sent: a damaged file or a bad filter sends nothing.
    func readReplay() throws -> [ReplayDatagram] {
        // A file that is missing or unreadable is EX_NOINPUT (66), as --file's; one that is there
        // but not a capture is EX_DATAERR (65).
        var isDirectory: ObjCBool = false
        let descriptor = open(replay!, O_RDONLY)
        if descriptor >= 0 { close(descriptor) }
        guard descriptor >= 0, FileManager.default.fileExists(atPath: replay!, isDirectory: &isDirectory),
            !isDirectory.boolValue
        else {
            Output.error("cannot read the capture \(replay!): \(SendCommand.whyUnreadable(replay!))")
            throw Exit.noInput
        }
        let contents: CaptureContents
        do {
            contents = try CaptureReader.read(replay!, filter: filter)
        } catch {
            Output.error(error.description)
            if case .badFilter = error { throw Exit.usage }
            throw Exit.dataError
        }
        let first = contents.entries[0].time
        let rewritten = rewriteTarget.flatMap { SOCKSAddress(destination: $0) }
        return contents.entries.map { entry in
            ReplayDatagram(
                target: rewritten ?? .ip(entry.datagram.destination),
                payload: entry.datagram.payload,
                // Capture times are nanoseconds (PcapNG); a time before the first counts as none.
                offset: .nanoseconds(Int64(clamping: entry.time >= first ? entry.time - first : 0))
            )
        }
    }

    func executeReplay(_ configuration: DeckConfiguration) async throws {
        let definition = declaration.applied(to: try options.server(server, in: configuration))
        let datagrams = try readReplay()
        let pcap = try capture.open()
        defer { pcap.finish() }
        let engine = SessionEngine(configuration: configuration, capture: pcap.mode)
        let span = datagrams.last!.offset / .seconds(1)
        if !json {
            Output.line(
                "replaying \(datagrams.count) datagram(s) from \(replay!)"
                    + (filter.map { " (filter '\($0)')" } ?? "")
                    + (timing == .original
                        ? String(format: " over %.3f s, as captured", span) : ", as fast as possible")
            )
        }
        let (id, settled) = try await openAssociatedOrExit(
            engine,
            definition,
            family: familyOption.requested,
            json: json
        )
        let outcomes: [ReplayOutcome]
        do {
            outcomes = try await engine.replay(id, datagrams, timing: timing, wait: .milliseconds(waitReply))
        } catch {
            Output.error(error.description)
            await engine.shutdown()
            throw Exit.operationFailed
        }
        let last = await engine.snapshot(id) ?? settled
        await engine.close(id)
        await engine.shutdown()
        report(outcomes, association: last)
        if outcomes.contains(where: { $0.reply == nil }) { throw Exit.noReply }
    }

    private func report(_ outcomes: [ReplayOutcome], association: AssociationSnapshot) {
        let rtts = outcomes.compactMap { $0.reply.map { $0.roundTrip.milliseconds } }.sorted()
        if json {
            struct Datagram: Encodable {
                var index: Int
                var target: String
                var size: Int
                var sentAfterMs: Double?
                var answered: Bool
                var replyFrom: String?
                var replySize: Int?
                var rttMs: Double?
            }
            struct Report: Encodable {
                var association: AssociationJSON
                var file: String
                var filter: String?
                var timing: String
                var sent: Int
                var answered: Int
                var datagrams: [Datagram]
            }
            Output.json(
                Report(
                    association: AssociationJSON(association),
                    file: replay!,
                    filter: filter,
                    timing: timing.rawValue,
                    sent: outcomes.filter { $0.sentAfter != nil }.count,
                    answered: rtts.count,
                    datagrams: outcomes.map { o in
                        Datagram(
                            index: o.index + 1,
                            target: o.target.description,
                            size: o.size,
                            sentAfterMs: o.sentAfter.map(\.milliseconds),
                            answered: o.reply != nil,
                            replyFrom: o.reply?.from.description,
                            replySize: o.reply?.payload.count,
                            rttMs: o.reply.map { $0.roundTrip.milliseconds }
                        )
                    }
                )
            )
            return
        }
        for o in outcomes {
            let at = o.sentAfter.map { String(format: "+%.3f s", $0.milliseconds / 1000) } ?? "not sent"
            let result =
                o.reply.map {
                    String(
                        format: "answered, %d B from %@ in %.2f ms",
                        $0.payload.count,
                        "\($0.from)",
                        $0.roundTrip.milliseconds
                    )
                }
                ?? (o.sentAfter == nil ? "the association ended first" : "no answer within \(waitReply) ms")
            Output.line("#\(o.index + 1)  \(at)  → \(o.target)  \(o.size) B  \(result)")
        }
        let summary = "replayed \(outcomes.count): answered \(rtts.count), unanswered \(outcomes.count - rtts.count)"
        let figures =
            rtts.isEmpty
            ? ""
            : String(
                format: "; RTT min %.2f / median %.2f / max %.2f ms",
                rtts.first!,
                Percentile.nearestRank(0.5, of: rtts) ?? 0,
                rtts.last!
            )
        Output.line(summary + figures)
    }
}
