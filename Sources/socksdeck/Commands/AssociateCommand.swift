import ArgumentParser
import Dispatch
import Foundation
import ProcessPolicy
import Socks5
import SocksDeckEngine

struct AssociateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "associate",
        abstract: "Open one UDP association and show its rendezvous address and control state.",
        discussion: """
            Holds the association open for --hold seconds (default: until Ctrl-C) and reports how it \
            ended. With --listen it prints every datagram the relay delivers meanwhile (receive-only: \
            nothing is sent), for a peer that sends to the relay's address. Exit 1 when it could not \
            be opened or the server ended it.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var declaration: DeclareOption
    @OptionGroup var capture: CaptureOptions
    @Argument(help: "A configured server name, or host:port / socks5://[user@]host:port.") var server: String
    @OptionGroup var familyOption: FamilyOption
    @Option(help: ArgumentHelp("Seconds to hold the association open (default: until Ctrl-C).", valueName: "SECONDS"))
    var hold: Double?
    @Flag(help: "Print each datagram the relay delivers while the association is held (sends nothing).")
    var listen = false
    @Flag(help: "JSON lines: one object when settled, one when it ended (and, with --listen, one per datagram).")
    var json = false

    func validate() throws {
        if let hold, hold < 0 { throw ValidationError("--hold takes a number of seconds, 0 or more") }
    }

    func run() async throws {
        try await options.withConfiguration(serverName: server, execute)
    }

    private func execute(_ configuration: DeckConfiguration) async throws {
        let definition = declaration.applied(to: try options.server(server, in: configuration))
        // Installed first: a signal from the moment the association is reported must close it
        // cleanly, not kill the process.
        let interrupted = SignalFlag()
        let pcap = try capture.open()
        defer { pcap.finish() }
        let engine = SessionEngine(configuration: configuration, capture: pcap.mode)
        let (id, settled) = try await openAssociation(engine, definition, family: familyOption.requested)
        report(settled, event: "settled")
        guard settled.state == .associated else {
            await engine.shutdown()
            throw Exit.operationFailed
        }
        let deadline = hold.map { Date().addingTimeInterval($0) }
        var ended = settled
        var printed = 0
        while true {
            if listen, let s = await engine.snapshot(id) { printed = printArrivals(s, after: printed) }
            if interrupted.isSet || (deadline.map { Date() >= $0 } ?? false) {
                await engine.close(id)
                ended = await engine.snapshot(id) ?? ended
                if let how = interrupted.arrivedAs { ended.state = .closed(reason: "closed by the user (\(how))") }
                break
            }
            if let s = await engine.snapshot(id), s.state.isFinal {
                ended = s
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        report(ended, event: "ended")
        await engine.shutdown()
        if case .closed(let reason) = ended.state, !reason.hasPrefix("closed by the user") {
            throw Exit.operationFailed
        }
    }

    /// Prints the datagrams received since the `printed`-th; returns how many have been received.
    /// The engine keeps the last 64: a burst faster than the poll is said, not silently skipped.
    private func printArrivals(_ s: AssociationSnapshot, after printed: Int) -> Int {
        let total = s.counters.datagramsReceived
        guard total > printed else { return printed }
        let received = s.recent.filter { $0.direction == .received }
        let fresh = received.suffix(total - printed)
        if total - printed > fresh.count {
            Output.warning(
                "\(total - printed - fresh.count) datagram(s) arrived too fast to show (counted, not printed)"
            )
        }
        for d in fresh {
            if json {
                struct Arrival: Encodable {
                    var event = "datagram"
                    var from: String
                    var size: Int
                    var hex: String
                    var text: String
                }
                Output.json(
                    Arrival(from: d.peer, size: d.size, hex: Output.hex(d.firstBytes), text: Output.text(d.firstBytes))
                )
            } else {
                let more = d.size > d.firstBytes.count ? " (+\(d.size - d.firstBytes.count) bytes)" : ""
                Output.line("datagram from \(d.peer), \(d.size) bytes: \"\(Output.text(d.firstBytes))\"\(more)")
                Output.line("  \(Output.hex(d.firstBytes))")
            }
        }
        return total
    }

    private func report(_ s: AssociationSnapshot, event: String) {
        if json {
            struct Line: Encodable {
                var event: String
                var association: AssociationJSON
            }
            Output.json(Line(event: event, association: AssociationJSON(s)))
            return
        }
        switch s.state {
        case .associated:
            Output.line("association \(s.id) through \(s.serverLabel)")
            if let r = s.rendezvous {
                Output.line("  rendezvous        \(r.asUsed)")
                if r.replacedUnspecified {
                    Output.line("  as received       \(r.asReceived) (\(r.substitutionReason))")
                }
                if let received = r.receivedFamily, received != s.requestedFamily {
                    let answered = "the server answered with an \(received) BND"
                    Output.line("  family            \(s.requestedFamily) asked for, \(answered)")
                }
            }
            if let declared = s.declared { Output.line("  declared          \(declared)") }
            Output.line("  control           \(s.controlLocal ?? "?") -> \(s.controlRemote ?? "?"): associated")
            Output.line("  data socket       \(s.dataSocketLocal ?? "?")")
            Output.line(
                "  setup             " + s.history.map(\.state.name).joined(separator: " -> ")
                    + String(format: " in %.1f ms", (s.history.last!.since.timeIntervalSince(s.opened)) * 1000)
            )
            Output.line(hold == nil ? "holding it open; Ctrl-C to close" : "holding it open for \(hold!) s")
        case .failed(let f):
            Output.error("association through \(s.serverLabel) failed: \(f)")
        case .closed(let reason):
            Output.line("association \(s.id) closed after \(String(format: "%.1f", s.age)) s: \(reason)")
            Output.line(
                "  datagrams sent \(s.counters.datagramsSent), received \(s.counters.datagramsReceived), "
                    + "dropped \(s.counters.droppedTotal)"
            )
            if s.counters.controlBytesAfterReply > 0 {
                Output.line(
                    "  the server sent \(s.counters.controlBytesAfterReply) byte(s) on the control connection after "
                        + "its reply, which RFC 1928 gives no meaning (the engine's log has the first ones in hex)"
                )
            }
        default:
            Output.error("association through \(s.serverName) did not settle: still \(s.state.name)")
        }
    }
}

extension AssociationSnapshot {
    /// "dante (127.0.0.1:1080)", or just the address for a server given on the spot.
    var serverLabel: String { serverName == serverAddress ? serverAddress : "\(serverName) (\(serverAddress))" }
}
