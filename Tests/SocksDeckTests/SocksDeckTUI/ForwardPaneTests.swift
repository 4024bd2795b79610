import Foundation
import Socks5
import Testing

@testable import SocksDeckEngine
@testable import SocksDeckTUI

/// Forwards on the screen, from a model onto a text buffer: their rows under the servers, a
/// flow's association recognisable in the Associations pane, the flow decoded in Detail.
@Suite struct ForwardPaneTests {
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16) ?? 0 }
    }

    static let start = Date(timeIntervalSince1970: 1_700_000_000)

    /// dig's query for socksdeck.demo A (id 0x1a2b), and the demo responder's answer 12 ms later.
    static let query = bytes("1a2b 0100 0001 0000 0000 0000 09736f636b736465636b 0464656d6f 00 0001 0001")
    static let answer = bytes(
        "1a2b 8180 0001 0001 0000 0000 09736f636b736465636b 0464656d6f 00 0001 0001"
            + " c00c 0001 0001 0000003c 0004 7f000009"
    )

    static func flow(association: Int = 1, recent: [ForwardedDatagram]? = nil) -> ForwardFlowSnapshot {
        ForwardFlowSnapshot(
            client: IPEndpoint("127.0.0.1:40001")!,
            association: AssociationID(association),
            associations: [AssociationID(association)],
            state: "associated #\(association)",
            isOpen: true,
            opened: start,
            closed: nil,
            lastActivity: start,
            datagramsFromClient: 3,
            bytesFromClient: 90,
            datagramsForwarded: 2,
            datagramsFromTarget: 2,
            bytesFromTarget: 96,
            drops: [.tooLarge: 1],
            recent: recent ?? [
                ForwardedDatagram(time: start, direction: .request, size: query.count, bytes: query),
                ForwardedDatagram(
                    time: start.addingTimeInterval(0.012),
                    direction: .reply,
                    size: answer.count,
                    bytes: answer
                ),
                ForwardedDatagram(
                    time: start.addingTimeInterval(1),
                    direction: .request,
                    size: 5,
                    bytes: Array("hello".utf8)
                ),
            ]
        )
    }

    static func forward(
        _ id: Int,
        server: String = "dante",
        local: String = "127.0.0.1:5353",
        running: Bool = true,
        flows: [ForwardFlowSnapshot] = []
    ) -> ForwardSnapshot {
        ForwardSnapshot(
            id: ForwardID(id),
            serverName: server,
            spec: "\(local)=127.0.0.1:53",
            local: IPEndpoint(local)!,
            target: SOCKSAddress(destination: "127.0.0.1:53")!,
            flows: flows,
            openFlows: flows.filter(\.isOpen).count,
            flowsOpened: flows.count + 1,
            drops: [:],
            isRunning: running
        )
    }

    /// ScreenTests' model with two forwards through dante: f1 running with one flow (carried by
    /// association #1), f2 stopped.
    static func model() -> DeckModel {
        var m = ScreenTests.model()
        m.forwards = [
            forward(1, flows: [flow()]),
            forward(2, local: "127.0.0.1:5354", running: false),
        ]
        return m
    }

    static func render(_ m: DeckModel, height: Int = 35, width: Int = 120) -> BufferCanvas {
        let canvas = BufferCanvas(height: height, width: width)
        Screen.render(m, on: canvas)
        return canvas
    }

    @Test func forwardsAreListedUnderTheServersWithTheirFlowsAndCounters() {
        let canvas = Self.render(Self.model())
        let lines = canvas.lines
        let heading = lines.firstIndex { $0.contains("FORWARD") && $0.contains("LISTENS ON") }
        let servers = lines.firstIndex { $0.hasPrefix("│noudp") }
        #expect(heading != nil && servers != nil && heading! > servers!, "\(canvas.text)")
        let f1 = lines.first { $0.hasPrefix("│fwd f1") } ?? ""
        #expect(f1.contains("127.0.0.1:5353") && f1.contains("via dante"), "\(f1)")
        #expect(f1.contains("→ 127.0.0.1:53 · 1 open, 2 served · →3 ←2 · 1 dropped"), "\(f1)")
        let f2 = lines.first { $0.hasPrefix("│fwd f2") } ?? ""
        #expect(f2.contains("stopped · → 127.0.0.1:53 · 1 served"), "\(f2)")
        #expect(canvas.text.contains("Servers (3) · 2 forwards"))
        #expect(lines[0].contains("1 forwarding · "), "only running ones count: \(lines[0])")
        // x's hidden rows go.
        var hidden = Self.model()
        hidden.hiddenForwards = [ForwardID(2)]
        #expect(!Self.render(hidden).text.contains("fwd f2"))
    }

    @Test func theSelectionMovesFromTheServersIntoTheForwardsByIdentity() {
        var m = Self.model()
        m.focused = .servers
        m.move(3)
        #expect(m.selectedForward == ForwardID(1) && m.selectedServerDefinition == nil)
        #expect(m.selectedForwardSnapshot?.id == ForwardID(1))
        m.move(5)
        #expect(m.selectedForward == ForwardID(2))
        // A new forward listed before the selected one leaves the selection where it was.
        m.forwards.insert(Self.forward(9, local: "127.0.0.1:5399"), at: 0)
        #expect(m.selectedForward == ForwardID(2))
        m.move(-1_000_000)
        #expect(m.selectedForward == nil && m.selectedServerDefinition?.name == "dante")
        // The heading row is no entry: entries map around it.
        #expect(m.serversPaneRowCount == 3 + 1 + 3)
        #expect(m.serversPaneEntry(atRow: 3) == nil && m.serversPaneEntry(atRow: 4) == 3)
        #expect(m.serversPaneRow(ofEntry: 3) == 4)
    }

    @Test func aFlowsAssociationIsRecognisableAndFilterable() {
        var m = Self.model()
        #expect(m.carriedFlows[AssociationID(1)]?.label == "f1 127.0.0.1:40001")
        let canvas = Self.render(m)
        // Beside Detail the pane is 70 cells: FORWARD stays with the health, the rendezvous goes.
        let header = canvas.lines.first { $0.contains("ID") && $0.contains("STATE") } ?? ""
        #expect(header.contains("FORWARD") && header.contains("LOSS"), "\(canvas.text)")
        let row = canvas.lines.first { $0.contains("#1  dante") } ?? ""
        #expect(row.contains("f1 127.0.0.1:40001") && row.contains("associated"), "\(row)")
        m.filter = "f1 127"
        #expect(m.visibleAssociations.map(\.id.value) == [1])
        // Without a flow among the rows the column goes.
        m.filter = "noudp"
        #expect(!Self.render(m).lines.contains { $0.contains("FORWARD") && $0.contains("STATE") })
    }

    @Test func detailDecodesTheFlowsDatagramsWithTheRoundTrip() throws {
        let m = Self.model()
        let a = try #require(m.associations.first)
        let carried = try #require(m.carriedFlows[a.id])
        let lines = DetailPane.lines(for: a, width: 110, flow: carried).map(\.0)
        #expect(lines.first == "forward      f1 127.0.0.1:5353 → 127.0.0.1:53 through dante")
        #expect(lines.contains { $0.hasPrefix("client       127.0.0.1:40001, for ") })
        #expect(lines.contains("from client  3 datagrams, 90 B, 2 forwarded"))
        #expect(lines.contains("flow drops   1 too large for one SOCKS5 datagram"))
        let clock = { DecodedFlowDatagram.clock(Self.start.addingTimeInterval($0)) }
        let shown = lines.drop { $0 != "flow datagrams (newest first):" }.dropFirst().prefix(3)
        #expect(
            Array(shown) == [
                "\(clock(1)) → 5 B 68 65 6c 6c 6f",
                "\(clock(0.012)) ← \(Self.answer.count) B DNS answer NOERROR A socksdeck.demo: A 127.0.0.9 (id 0x1a2b) · RTT 12.00 ms",
                "\(clock(0)) → \(Self.query.count) B DNS query A socksdeck.demo (id 0x1a2b)",
            ],
            "\(lines.joined(separator: "\n"))"
        )
        // The association's own lines follow the flow's.
        #expect(lines.contains { $0.hasPrefix("state        associated") })
        let canvas = Self.render(m, width: 160)
        #expect(canvas.text.contains("Detail #1 via dante · fwd f1 127.0.0.1:40001"), "\(canvas.text)")
    }

    @Test func aReplyPairsOnlyWithAnEarlierRequestOfItsExchange() {
        let other = Self.bytes("0007 0100 0001 0000 0000 0000 01780474657374 00 0001 0001")
        let at = { Self.start.addingTimeInterval($0) }
        let decoded = DecodedFlowDatagram.decode(
            [
                ForwardedDatagram(time: at(0), direction: .reply, size: Self.answer.count, bytes: Self.answer),
                ForwardedDatagram(time: at(1), direction: .request, size: other.count, bytes: other),
                ForwardedDatagram(time: at(2), direction: .request, size: Self.query.count, bytes: Self.query),
                ForwardedDatagram(time: at(2.5), direction: .reply, size: Self.answer.count, bytes: Self.answer),
                ForwardedDatagram(time: at(3), direction: .reply, size: Self.answer.count, bytes: Self.answer),
            ],
            targetPort: 53
        )
        #expect(decoded.map(\.roundTrip) == [nil, nil, nil, .milliseconds(500), nil])
        #expect(decoded[1].summary == "DNS query A x.test (id 0x0007)")
    }

    @Test func theSelectedAssociationIsFollowedByItsIdentity() {
        var m = ScreenTests.model()
        m.associations = (1...3).map { ScreenTests.snapshot(id: $0, server: "dante", state: .associated) }
        m.focused = .associations
        m.move(1)
        #expect(m.selectedAssociationSnapshot?.id.value == 2)
        // #1 goes (a forward flow's association is forgotten when the flow ends): still #2.
        m.associations = [2, 3].map { ScreenTests.snapshot(id: $0, server: "dante", state: .associated) }
        m.clampSelections()
        #expect(m.selectedAssociationSnapshot?.id.value == 2)
        // #2 goes: the row now at its place.
        m.associations = [3].map { ScreenTests.snapshot(id: $0, server: "dante", state: .associated) }
        m.clampSelections()
        #expect(m.selectedAssociationSnapshot?.id.value == 3)
    }

    @Test func forwardsAndTheirFormMakeNewFrames() {
        let before = Self.model()
        var forwards = before
        forwards.forwards[0].openFlows = 0
        var selected = before
        selected.selectedForward = ForwardID(1)
        var form = before
        form.forwardForm = ForwardForm(server: before.servers[0])
        for changed in [forwards, selected, form] {
            #expect(
                FrameSignature.UILook(before, height: 35, width: 120)
                    != FrameSignature.UILook(changed, height: 35, width: 120)
            )
        }
    }

    /// Every pane focused, and the forward form open, at the sizes people use: borders whole.
    @Test(arguments: [(120, 35), (80, 24), (50, 14), (40, 12)])
    func bordersStayIntactWithForwards(width: Int, height: Int) throws {
        var m = Self.model()
        for pane in PaneID.allCases {
            m.focused = pane
            let canvas = Self.render(m, height: height, width: width)
            for (shown, rect) in Layout.compute(height: height, width: width, model: m).panes {
                ScreenTests.expectBoxIntact(canvas, rect, "\(width)x\(height), \(pane) focused: \(shown)")
            }
        }
        m.forwardForm = ForwardForm(server: m.servers[0])
        let canvas = Self.render(m, height: height, width: width)
        let box = try #require(ScreenTests.box(titled: "Forward through dante", in: canvas), "\(canvas.text)")
        ScreenTests.expectBoxIntact(canvas, box, "forward form at \(width)x\(height)")
    }
}

/// The F form: its fields read as `socksdeck forward`'s LOCAL=TARGET, in ForwardSpec's words.
@Suite struct ForwardFormTests {
    static func form(_ local: String, _ target: String) -> ForwardForm {
        var form = ForwardForm(server: ServerDefinition(name: "dante", host: "127.0.0.1", port: 1080))
        form.fields.set(ForwardForm.local, local)
        form.fields.set(ForwardForm.target, target)
        return form
    }

    @Test func aGoodFormIsAForwardSpec() throws {
        var form = Self.form(" 127.0.0.1:5353 ", "192.0.2.53:53")
        let spec = form.validate()
        #expect(spec?.description == "127.0.0.1:5353=192.0.2.53:53" && form.fields.problem == nil)
        var named = Self.form("[::1]:5353", "dns.example:53")
        let namedSpec = named.validate()
        #expect(namedSpec?.target == .domain(try #require(DomainName("dns.example")), port: 53))
    }

    /// The problem a form's Enter leaves, and whether it gave a spec.
    static func refusal(_ local: String, _ target: String) -> (spec: ForwardSpec?, form: ForwardForm) {
        var form = Self.form(local, target)
        let spec = form.validate()
        return (spec, form)
    }

    @Test func eachWrongFieldIsMarkedInForwardSpecsWords() {
        let noPort = Self.refusal("127.0.0.1:", "192.0.2.53:53")
        #expect(noPort.spec == nil && noPort.form.fields.problem?.field == ForwardForm.local)
        #expect(
            noPort.form.fields.problem?.message.hasPrefix("LOCAL '127.0.0.1:' is not an IP address and port") == true
        )
        let zero = Self.refusal("127.0.0.1:0", "192.0.2.53:53")
        #expect(
            zero.spec == nil
                && zero.form.fields.problem?.message
                    == "LOCAL '127.0.0.1:0' has port 0: applications need a port to send to"
        )
        let target = Self.refusal("127.0.0.1:5353", "nowhere")
        #expect(target.spec == nil && target.form.fields.problem?.field == ForwardForm.target)
        #expect(target.form.fields.field == ForwardForm.target, "the focus goes to the wrong field")
        #expect(target.form.fields.problem?.message.hasPrefix("TARGET 'nowhere' is not host:port") == true)
        let equals = Self.refusal("127.0.0.1:5353=192.0.2.53:53", "")
        #expect(equals.spec == nil && equals.form.fields.problem?.field == ForwardForm.local)
        // What was typed stays for the next try.
        #expect(equals.form.fields.values[ForwardForm.local] == "127.0.0.1:5353=192.0.2.53:53")
    }

    @Test func theTargetIsPrefilledWithTheServersDNSServer() {
        var server = ServerDefinition(name: "dante", host: "127.0.0.1", port: 1080)
        server.checkTargets.dns = CheckKind.dns.target("192.0.2.53")
        let form = ForwardForm(server: server)
        #expect(form.fields.values == ["127.0.0.1:", "192.0.2.53:53"] && form.fields.field == ForwardForm.local)
        #expect(form.server == server)
    }
}
