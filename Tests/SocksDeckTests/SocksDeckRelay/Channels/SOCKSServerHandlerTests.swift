import NIOCore
import NIOEmbedded
import Socks5
import Socks5NIO
import Testing

@testable import SocksDeckRelay

/// The relay's control-connection handler on an EmbeddedChannel (as NIOSOCKS tests its own):
/// bytes in, bytes out, the refusals and their statistics, no socket.
@Suite struct SOCKSServerHandlerTests {
    static func channel(
        _ configuration: RelayConfiguration,
        from client: String = "127.0.0.1:50000",
        statistics: StatisticsBox = StatisticsBox(),
        admission: ClientAdmission? = nil,
        events: EventRecorder? = nil,
        loop: EmbeddedEventLoop = EmbeddedEventLoop()
    ) throws -> (EmbeddedChannel, StatisticsBox) {
        let handler = SOCKSServerHandler(
            configuration: configuration,
            statistics: statistics,
            admission: admission ?? ClientAdmission(limits: configuration.clientLimits),
            log: { events?.add($0) }
        )
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        channel.localAddress = IPEndpoint("127.0.0.1:1080")!.nioAddress
        try channel.connect(to: IPEndpoint(client)!.nioAddress).wait()
        return (channel, statistics)
    }

    static let plain = RelayConfiguration(listen: [IPEndpoint("127.0.0.1:1080")!])

    func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var all: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            all += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return all
    }

    @Test func bindIsAnsweredWithRep7AndTheConnectionEnds() throws {
        let (channel, statistics) = try Self.channel(Self.plain)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0]))
        #expect(try written(channel) == [5, 0])
        try channel.writeInbound(ByteBuffer(bytes: [5, 2, 0, 1, 0, 0, 0, 0, 0, 0]))
        #expect(try written(channel) == [5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(!channel.isActive)
        #expect(statistics.value.refusals == 1 && statistics.value.connectionsAccepted == 1)
    }

    @Test func noUDPAnswersUDPAssociateWithRep7() throws {
        var configuration = Self.plain
        configuration.udpEnabled = false
        let (channel, statistics) = try Self.channel(configuration)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0]))
        #expect(try written(channel) == [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(!channel.isActive)
        #expect(statistics.value.associationsOpened == 0)
    }

    @Test func aWrongPasswordIsRefusedAfterTheMethodSelection() throws {
        var configuration = Self.plain
        configuration.credentials = Credentials(username: "u", password: "right")
        let (channel, statistics) = try Self.channel(configuration)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 2]))
        #expect(try written(channel) == [5, 2])
        try channel.writeInbound(ByteBuffer(bytes: [1, 1, UInt8(ascii: "u"), 5] + Array("wrong".utf8)))
        #expect(try written(channel) == [1, 1])
        #expect(!channel.isActive)
        #expect(statistics.value.refusals == 1)
    }

    @Test func aClientOfferingNoAcceptableMethodGetsFF() throws {
        var configuration = Self.plain
        configuration.credentials = Credentials(username: "u", password: "p")
        let (channel, _) = try Self.channel(configuration)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 0]))
        #expect(try written(channel) == [5, 0xFF])
        #expect(!channel.isActive)
    }

    // MARK: Negotiation timeout and per-client bounds (virtual time)

    @Test func aConnectionThatSendsNothingIsClosedAtTheNegotiationTimeoutAndCounted() throws {
        let events = EventRecorder()
        let (channel, statistics) = try Self.channel(Self.plain, events: events)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(29_999))
        #expect(channel.isActive, "not before the 30 s default")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
        #expect(statistics.value.negotiationTimeouts == 1 && statistics.value.refusals == 0)
        let closed = events.all.filter { $0.kind == .closed }.map(\.message)
        #expect(closed == ["closed: no request within 30 s: nothing was sent"], "\(closed)")
    }

    /// The deadline is for the whole negotiation, so a login that stalls mid-message is closed too,
    /// and the log says where it stalled.
    @Test func aLoginThatStallsMidMessageIsClosedSayingWhereItStalled() throws {
        var configuration = Self.plain
        configuration.credentials = Credentials(username: "u", password: "p")
        configuration.negotiationTimeout = .milliseconds(1500)
        let events = EventRecorder()
        let (channel, statistics) = try Self.channel(configuration, events: events)
        try channel.writeInbound(ByteBuffer(bytes: [5, 1, 2]))
        #expect(try written(channel) == [5, 2])
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        try channel.writeInbound(ByteBuffer(bytes: [1, 1, UInt8(ascii: "u")]))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(499))
        #expect(channel.isActive, "bytes that keep coming do not move the deadline, but it has not passed")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
        #expect(statistics.value.negotiationTimeouts == 1)
        let closed = events.all.filter { $0.kind == .closed }.map(\.message)
        #expect(
            closed == ["closed: no request within 1.5 s: the RFC 1929 login stalled after 3 of its bytes"],
            "\(closed)"
        )
    }

    /// A request ends the negotiation: the connection's slot is given back at once, and the
    /// deadline no longer applies (here the request is BIND, which is refused, not timed out).
    @Test func aRequestInTimeEndsTheNegotiation() throws {
        var configuration = Self.plain
        configuration.clientLimits.negotiatingConnections = 1
        let admission = ClientAdmission(limits: configuration.clientLimits)
        let loop = EmbeddedEventLoop()
        let (first, statistics) = try Self.channel(configuration, admission: admission, loop: loop)
        try first.writeInbound(ByteBuffer(bytes: [5, 1, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]))
        #expect(try written(first) == [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0])
        loop.advanceTime(by: .seconds(60))
        #expect(statistics.value.negotiationTimeouts == 0 && statistics.value.refusals == 1)
        #expect(admission.trackedClients == 0, "nothing held, nothing remembered")
    }

    @Test func aClientPastItsBoundOfNegotiatingConnectionsIsClosedAtOnceAndLoggedOnce() throws {
        var configuration = Self.plain
        configuration.clientLimits.negotiatingConnections = 2
        let admission = ClientAdmission(limits: configuration.clientLimits)
        let statistics = StatisticsBox()
        let events = EventRecorder()
        let loop = EmbeddedEventLoop()
        func open(_ client: String) throws -> EmbeddedChannel {
            try Self.channel(
                configuration,
                from: client,
                statistics: statistics,
                admission: admission,
                events: events,
                loop: loop
            ).0
        }
        let held = try (0..<2).map { try open("127.0.0.1:\(50_000 + $0)") }
        let refused = try (0..<5).map { try open("127.0.0.1:\(51_000 + $0)") }
        // Another address has bounds of its own; IPv4-mapped IPv6 counts as the IPv4 address.
        let other = try open("127.0.0.2:50000")
        let mapped = try open("[::ffff:127.0.0.1]:52000")
        #expect(held.allSatisfy(\.isActive) && other.isActive)
        #expect(!refused.contains(where: \.isActive) && !mapped.isActive)
        #expect(statistics.value.connectionsOverClientLimit == 6 && statistics.value.refusals == 6)
        let lines = events.all.filter { $0.kind == .refused }.map(\.message)
        #expect(lines.count == 1, "once a minute per client: \(lines)")
        #expect(
            lines.first?.hasPrefix(
                "client 127.0.0.1 already has the most connections still negotiating (2, --max-negotiating-per-client): refused"
            ) == true,
            "\(lines)"
        )
        // A slot given back (the connection closed) admits the next connection.
        _ = try held[0].finish()
        #expect(try open("127.0.0.1:53000").isActive)
    }
}

/// The per-client table on its own: admissions and releases balance, refusals are logged once an
/// interval with the count passed over, and the table forgets a client that holds nothing.
@Suite struct ClientAdmissionTests {
    @Test func refusalsAreLoggedOnceAnIntervalWithTheCountPassedOver() {
        let admission = ClientAdmission(
            limits: RelayConfiguration.ClientLimits(negotiatingConnections: 1, associations: 1),
            logInterval: .seconds(60)
        )
        let client = IPAddress("192.0.2.7")!
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(admission.admit(.negotiation, for: client, now: t0) == nil)
        #expect(admission.admit(.association, for: client, now: t0) == nil, "each resource has its own bound")
        #expect(admission.admit(.negotiation, for: client, now: t0)?.logNow == true)
        for second in 1...3 {
            let r = admission.admit(.negotiation, for: client, now: t0 + .seconds(Int64(second)))
            #expect(r == ClientAdmission.Refusal(limit: 1, logNow: false, unloggedBefore: 0))
        }
        let later = admission.admit(.negotiation, for: client, now: t0 + .seconds(61))
        #expect(later == ClientAdmission.Refusal(limit: 1, logNow: true, unloggedBefore: 3))
        admission.release(.negotiation, for: client, now: t0 + .seconds(200))
        admission.release(.association, for: client, now: t0 + .seconds(200))
        #expect(admission.trackedClients == 0)
        #expect(admission.admit(.negotiation, for: client, now: t0 + .seconds(201)) == nil)
    }

    /// A client refused once that then gives everything back is forgotten once its log window
    /// passes, by the sweep of the whole table, even if it never comes again.
    @Test func aClientRefusedOnceIsForgottenByTheSweep() {
        let admission = ClientAdmission(
            limits: RelayConfiguration.ClientLimits(negotiatingConnections: 1, associations: 1),
            logInterval: .seconds(60)
        )
        let once = IPAddress("192.0.2.8")!
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(admission.admit(.negotiation, for: once, now: t0) == nil)
        #expect(admission.admit(.negotiation, for: once, now: t0)?.logNow == true)
        admission.release(.negotiation, for: once, now: t0 + .seconds(1))
        #expect(admission.trackedClients == 1, "its log window is still open")
        let other = IPAddress("192.0.2.9")!
        for i in 0..<ClientAdmission.sweepEvery {
            _ = admission.admit(.negotiation, for: other, now: t0 + .seconds(120) + .nanoseconds(Int64(i)))
            admission.release(.negotiation, for: other, now: t0 + .seconds(120) + .nanoseconds(Int64(i)))
        }
        #expect(admission.trackedClients == 0)
    }
}
