import ArgumentParser
import Foundation
import ProcessPolicy
import Socks5
import SocksDeckEngine

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send datagrams through a new association and show the replies.",
        discussion: """
            TARGET is host:port ([IPv6]:port). A host name is sent to the server as a name (ATYP 3) \
            for the server to resolve, unless --resolve asks to resolve it here. Replies are shown \
            as text and hex, with the counters at the end. Exit 3 when nothing came back within \
            --wait-reply.

            With --replay FILE, the UDP datagrams of a pcap or pcapng capture (any link type libpcap \
            reads; --filter selects them with a BPF expression) are sent instead, each to its \
            original destination or to --rewrite-target, with the capture's spacing (--timing \
            original) or as fast as possible (--timing fast); each gets a line saying whether it \
            was answered and how fast. A file that is not a capture, is damaged or holds no UDP \
            exits 65, a filter that does not compile 64, and nothing is sent. Exit 3 when a \
            datagram went unanswered.
            """
    )

    @OptionGroup var options: ConfigurationOptions
    @OptionGroup var declaration: DeclareOption
    @OptionGroup var capture: CaptureOptions
    @Argument(help: "A configured server name, or host:port / socks5://[user@]host:port.") var server: String
    @Argument(
        help: ArgumentHelp(
            "Where the datagrams go: host:port, [IPv6]:port, or \"echo\" for the server's configured echo target "
                + "(none with --replay)."
        )
    )
    var target: String?
    @Option(help: "The payload as text.") var text: String?
    @Option(help: "The payload as hex digits (spaces allowed): \"68 69\".") var hex: String?
    @Option(help: ArgumentHelp("The payload from a file.", valueName: "FILE")) var file: String?
    // The numbers take what follows them unconditionally: "--count -1" is a count the validation
    // refuses with its range, not a flag ArgumentParser would call a missing value.
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "A generated payload of N bytes (0 to 65517; what fits depends on the target and the rendezvous): "
                + "\"socksdeck 0000 \" and on, so that a cut reply shows where.",
            valueName: "N"
        )
    )
    var size: Int?
    @Option(parsing: .unconditional, help: "How many datagrams (1 to 100000).") var count = 1
    @Option(parsing: .unconditional, help: ArgumentHelp("Milliseconds between datagrams.", valueName: "MS"))
    var interval = 0
    @Option(
        name: .customLong("wait-reply"),
        parsing: .unconditional,
        help: ArgumentHelp("Milliseconds to wait for replies after the last datagram.", valueName: "MS")
    )
    var waitReply = 1000
    @OptionGroup var familyOption: FamilyOption
    @Flag(help: "Resolve a target host name here and send its address instead of the name.") var resolve = false
    @Flag(help: "One JSON object at the end.") var json = false
    @Option(help: ArgumentHelp("Send the UDP datagrams of a pcap or pcapng file.", valueName: "FILE")) var replay:
        String?
    @Option(help: ArgumentHelp("With --replay: which packets (a BPF filter, as tcpdump's).", valueName: "EXPR"))
    var filter: String?
    @Option(
        help: ArgumentHelp("With --replay: the capture's spacing, or as fast as possible.", valueName: "original|fast")
    )
    var timing: ReplayTiming = .original
    @Option(
        name: .customLong("rewrite-target"),
        help: ArgumentHelp(
            "With --replay: send every datagram here instead of its destination.",
            valueName: "HOST:PORT"
        )
    )
    var rewriteTarget: String?

    func validate() throws {
        if replay != nil { return try validateReplay() }
        if filter != nil || rewriteTarget != nil {
            throw ValidationError("--filter and --rewrite-target go with --replay FILE")
        }
        guard let target else { throw ValidationError("give TARGET (host:port, or \"echo\"), or --replay FILE") }
        if [text, hex, file, size.map(String.init)].compactMap({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --text, --hex, --file, --size")
        }
        if let size, !(0...UDPLimits.largestPayload).contains(size) {
            throw ValidationError(
                "--size takes 0 to \(UDPLimits.largestPayload) bytes (the most one SOCKS5 datagram ever carries)"
            )
        }
        if !(1...100_000).contains(count) { throw ValidationError("--count takes 1 to 100000") }
        if !(0...60_000).contains(interval) { throw ValidationError("--interval takes 0 to 60000 ms") }
        if !(0...600_000).contains(waitReply) { throw ValidationError("--wait-reply takes 0 to 600000 ms") }
        if let hex {
            do { _ = try HexPayload.decode(hex) } catch { throw ValidationError("--hex '\(hex)': \(error)") }
        }
        if target != "echo" && SOCKSAddress(destination: target) == nil {
            throw ValidationError(
                "TARGET '\(target)' is not host:port ([IPv6]:port, a port from 1 to 65535) or \"echo\""
            )
        }
    }

    private func payload() throws -> [UInt8] {
        if let text { return Array(text.utf8) }
        if let size { return Self.generatedPayload(size) }
        if let hex { return HexPayload.parse(hex)! }
        guard let data = FileManager.default.contents(atPath: file!) else {
            Output.error("cannot read payload file \(file!): \(Self.whyUnreadable(file!))")
            throw Exit.noInput
        }
        return Array(data)
    }

    /// Readable and countable: "socksdeck 0000 socksdeck 0015 …", each block naming its offset,
    /// so that a reply cut at N bytes shows where in the text it stops.
    static func generatedPayload(_ size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size + 16)
        while bytes.count < size {
            let offset = String(bytes.count)
            bytes += Array(("socksdeck " + String(repeating: "0", count: max(0, 4 - offset.count)) + offset + " ").utf8)
        }
        return Array(bytes.prefix(size))
    }

    /// A payload that cannot go in one datagram to `destination` through a rendezvous of `family`
    /// ends the command with exit 64 before anything is sent (the library's rule, in its words).
    static func refuseIfTooLarge(_ length: Int, to destination: SOCKSAddress, over family: AddressFamily) throws {
        guard let why = UDPLimits.tooLarge(length, to: destination, over: family) else { return }
        Output.error("nothing sent: \(why)")
        throw Exit.usage
    }

    /// The system's words for why a file cannot be read ("No such file or directory").
    static func whyUnreadable(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return "it is a directory"
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        close(descriptor)
        return "it cannot be read"
    }

    private func targetAddress(_ server: ServerDefinition) throws -> SOCKSAddress {
        let target = self.target!
        if target == "echo" {
            guard let echo = server.echo else {
                Output.error("server '\(server.name)' has no echo target configured: give TARGET as host:port")
                throw Exit.usage
            }
            return .ip(echo)
        }
        let destination = SOCKSAddress(destination: target)!
        return resolve ? try resolvedHere(destination) : destination
    }

    func run() async throws {
        try await options.withConfiguration(serverName: server, execute)
    }

    private func execute(_ configuration: DeckConfiguration) async throws {
        if replay != nil { return try await executeReplay(configuration) }
        let definition = declaration.applied(to: try options.server(server, in: configuration))
        let bytes = try payload()
        let destination = try targetAddress(definition)
        // Installed first: Ctrl-C during a long send ends it with the summary of what was sent.
        let interrupted = SignalFlag()
        let pcap = try capture.open()
        defer { pcap.finish() }
        let engine = SessionEngine(configuration: configuration, capture: pcap.mode)
        try Self.refuseIfTooLarge(bytes.count, to: destination, over: familyOption.requested ?? .ipv6)
        let (id, settled) = try await openAssociatedOrExit(
            engine,
            definition,
            family: familyOption.requested,
            json: json
        )
        if let relay = settled.rendezvous?.asUsed.family {
            do { try Self.refuseIfTooLarge(bytes.count, to: destination, over: relay) } catch {
                await engine.shutdown()
                throw error
            }
        }
        var sent = 0
        do {
            if interval > 0 && count > 1 {
                // Paced from here, one at a time, so that a signal stops it between two datagrams.
                for i in 0..<count where !interrupted.isSet {
                    sent += try await engine.send(id, to: destination, payload: bytes, count: 1)
                    if i < count - 1 { try? await Task.sleep(for: .milliseconds(interval)) }
                }
            } else {
                sent = try await engine.send(
                    id,
                    to: destination,
                    payload: bytes,
                    count: count,
                    interval: .milliseconds(interval)
                )
            }
        } catch {
            Output.error(error.description)
            await engine.shutdown()
            throw Exit.operationFailed
        }
        if let how = interrupted.arrivedAs {
            Output.notice("interrupted by \(how) after \(sent) of \(count) datagram(s)")
        }
        // Once interrupted, the replies already in are reported without waiting for more.
        let deadline = Date().addingTimeInterval(interrupted.isSet ? 0 : Double(waitReply) / 1000)
        var last = settled
        while Date() < deadline {
            last = await engine.snapshot(id) ?? last
            if last.counters.datagramsReceived >= sent || last.state.isFinal { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        last = await engine.snapshot(id) ?? last
        let noReply = waitReply > 0 && last.counters.datagramsReceived == 0
        await engine.close(id)
        let why = noReply ? await Self.whyNoReply(last, destination: destination, server: definition) : nil
        let replies = last.recent.filter { $0.direction == .received }
        if json {
            struct Reply: Encodable {
                var from: String
                var size: Int
                var text: String
                var hex: String
            }
            struct Summary: Encodable {
                var association: AssociationJSON
                var target: String
                var sent: Int
                var replies: [Reply]
                /// "Ctrl-C" or "SIGTERM" when a signal ended the sending early.
                var interrupted: String?
                /// When nothing came back: the likeliest reason, in the words stderr gives.
                var noReplyReason: String?
            }
            Output.json(
                Summary(
                    association: AssociationJSON(last),
                    target: destination.description,
                    sent: sent,
                    replies: replies.map {
                        Reply(
                            from: $0.peer,
                            size: $0.size,
                            text: Output.text($0.firstBytes),
                            hex: Output.hex($0.firstBytes)
                        )
                    },
                    interrupted: interrupted.arrivedAs,
                    noReplyReason: why
                )
            )
        } else {
            Output.line("sent \(sent) datagram(s) of \(bytes.count) bytes to \(destination)")
            for r in replies {
                let more = r.size > r.firstBytes.count ? " (+\(r.size - r.firstBytes.count) bytes)" : ""
                Output.line("reply from \(r.peer), \(r.size) bytes: \"\(Output.text(r.firstBytes))\"\(more)")
                Output.line("  \(Output.hex(r.firstBytes))")
            }
            let c = last.counters
            let drops = c.drops.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: ",")
            let cut = "\(c.truncatedReplies) cut to \(c.truncatedTo ?? 0) B (shorter than sent, same start)"
            Output.line(
                "counters: sent \(c.datagramsSent) (\(c.bytesSent) B), "
                    + "received \(c.datagramsReceived) (\(c.bytesReceived) B), dropped \(c.droppedTotal)"
                    + (c.drops.isEmpty ? "" : " " + drops) + (c.truncatedReplies == 0 ? "" : ", " + cut)
            )
        }
        await engine.shutdown()
        if noReply {
            let relay = last.rendezvous?.asUsed.description ?? "the relay"
            Output.error(
                "no reply within \(waitReply) ms from \(destination) through \(relay)" + (why.map { " (\($0))" } ?? "")
            )
            throw Exit.noReply
        }
    }

    /// The likeliest reason nothing came back, from what can be known here: a name the server
    /// may not resolve, an ICMP error at the rendezvous (RendezvousCheck), or a server that relays
    /// only for the address declared.
    static func whyNoReply(
        _ last: AssociationSnapshot,
        destination: SOCKSAddress,
        server: ServerDefinition
    ) async -> String? {
        if case .domain(let name, _) = destination {
            return "the target went to the server as the name \(name), which it may not resolve: try --resolve, "
                + "which sends its address"
        }
        // Resolved as the association's server was (SessionEngine.resolve is the one way), for a
        // second association that can read ICMP errors.
        if let resolved = try? await SessionEngine.resolve(server),
            case .unreachable(let error, let rendezvous) = await RendezvousCheck.run(resolved, target: destination)
        {
            return RendezvousCheck.meaning(error, rendezvous: rendezvous, target: destination)
        }
        return last.declared.map {
            "declared \($0); some servers relay only to the declared address: try --declare"
        }
    }
}
