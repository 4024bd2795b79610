#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The client side of a SOCKS5 handshake as a value: bytes in, bytes and events out, no sockets.
///
/// The blocking C and Swift APIs, the async engine and the tests all drive this one machine:
///
///     var handshake = ClientHandshake(command: .udpAssociate, address: .unspecified(.ipv4))
///     var action = handshake.start()               // .send(greeting)
///     loop: send what .send says; on .receive(n) read at most n bytes, feed them with
///     receive(_:), or call receiveEndOfStream() on EOF; stop at .established or .failed.
///
/// `.receive(n)` asks for exactly the bytes the current message still needs, so a reader that
/// honours it never reads past the reply: after CONNECT, whatever follows on the socket is the
/// target's data and stays in the socket.
public struct ClientHandshake: Sendable {
    public enum State: Sendable, Equatable {
        case idle
        case awaitingMethodSelection
        case awaitingAuthenticationReply
        case awaitingReply
        /// BIND only: the first reply came (the server listens at its BND); the second comes
        /// when the remote peer connects.
        case awaitingSecondBindReply(first: SOCKSReply)
        case established(SOCKSReply)
        case failed(SOCKS5Error)
    }

    public enum Action: Sendable, Equatable {
        /// Write these bytes to the server.
        case send([UInt8])
        /// Read; the current message needs this many more bytes.
        case receive(Int)
        /// BIND's first reply: the server listens at `reply.boundAddress`. Keep receiving
        /// (`.receive` follows) for the second reply.
        case bound(SOCKSReply)
        /// The handshake succeeded; for UDP ASSOCIATE `reply.boundAddress` is the rendezvous.
        case established(SOCKSReply)
        case failed(SOCKS5Error)
    }

    public private(set) var state: State = .idle
    public let command: Command
    public let address: SOCKSAddress
    public let credentials: Credentials?
    /// The methods the greeting offers: "no authentication", and username/password when there
    /// are credentials.
    public let offeredMethods: [AuthenticationMethod]
    /// The method the server chose, once it has.
    public private(set) var selectedMethod: AuthenticationMethod?
    /// True when the request goes out with the greeting, before the method selection comes back
    /// (see `init(command:address:credentials:pipelining:)`).
    public let pipelinesRequest: Bool

    /// Bytes of the current message received so far.
    private var inbound: [UInt8] = []

    /// With `pipelining`, and only when "no authentication" is the one method offered (no
    /// credentials), the request is sent in the same write as the greeting: the only answer that
    /// lets the handshake go on is "no authentication", so the request's bytes cannot be wrong,
    /// and one round trip is saved. A server that reads the greeting with a large read and throws
    /// the rest away would then never answer the request (the handshake times out), which is why
    /// it is asked for, never the default.
    public init(command: Command, address: SOCKSAddress, credentials: Credentials? = nil, pipelining: Bool = false) {
        self.command = command
        self.address = address
        self.credentials = credentials
        offeredMethods = credentials == nil ? [.noAuthentication] : [.noAuthentication, .usernamePassword]
        pipelinesRequest = pipelining && credentials == nil
        inbound.reserveCapacity(32)
    }

    /// A machine that picks up a BIND after its first reply, to wait for the second: what
    /// `socks5tcp_accept` does on a socket that `socks5tcp_bind` left.
    public static func awaitingSecondBindReply(address: SOCKSAddress) -> ClientHandshake {
        var m = ClientHandshake(command: .bind, address: address)
        m.state = .awaitingSecondBindReply(first: SOCKSReply(reply: .succeeded, boundAddress: address))
        return m
    }

    /// The first action: send the greeting.
    public mutating func start() -> Action {
        switch state {
        case .idle:
            state = .awaitingMethodSelection
            let greeting = ClientGreeting(methods: offeredMethods).encoded()
            return .send(
                pipelinesRequest ? greeting + SOCKSRequest(command: command, address: address).encoded() : greeting
            )
        case .awaitingSecondBindReply:
            return .receive(nextMessageNeed)
        default:
            preconditionFailure("start() called in state \(state)")
        }
    }

    /// The action to take now, without feeding anything: what to read next, or the outcome.
    public var pendingAction: Action {
        switch state {
        case .established(let reply): .established(reply)
        case .failed(let error): .failed(error)
        case .idle: .receive(0)
        default: .receive(nextMessageNeed)
        }
    }

    /// Feeds bytes read from the server and returns what to do next. Bytes past the current
    /// message, if a reader sent more than `.receive` asked for, are kept for the next message.
    public mutating func receive(_ bytes: some Sequence<UInt8>) -> Action {
        switch state {
        case .awaitingMethodSelection, .awaitingAuthenticationReply, .awaitingReply, .awaitingSecondBindReply:
            inbound.append(contentsOf: bytes)
            return advance()
        default:
            return pendingAction
        }
    }

    /// The server closed the connection (EOF).
    public mutating func receiveEndOfStream() -> Action {
        switch state {
        case .awaitingMethodSelection, .awaitingAuthenticationReply, .awaitingReply, .awaitingSecondBindReply:
            let message = currentMessageName
            if phase == .reply || phase == .secondBindReply, inbound.count >= 2, inbound[0] == socksVersion,
                let code = SOCKS5ErrorCode(reply: ReplyCode(rawValue: inbound[1]))
            {
                // The REP byte came: that is the server's answer, even if the rest of the reply
                // did not (shadowsocks-libev sends 05 07 00 01 and closes). Its code, not
                // S5_ECLOSED, so that a program can tell "no UDP" from "the server died".
                return fail(
                    SOCKS5Error(
                        code: code,
                        replyByte: inbound[1],
                        command: command,
                        detail: "the \(message) was cut short: REP \(hexByte(inbound[1])), then EOF after "
                            + "\(inbound.count) byte(s): \(hex(inbound))"
                    )
                )
            }
            let detail =
                inbound.isEmpty
                ? "EOF while waiting for the \(message)"
                : "EOF after \(inbound.count) byte(s) of the \(message): \(hex(inbound))"
            return fail(SOCKS5Error(code: .closedDuringHandshake, command: command, detail: detail))
        default:
            return pendingAction
        }
    }

    /// Ends the handshake with `error` and returns the error as the machine recorded it (with
    /// what the machine knows added), for a driver that throws.
    public mutating func failure(_ error: SOCKS5Error) -> SOCKS5Error {
        if case .failed(let recorded) = fail(error) { return recorded }
        return error
    }

    /// An I/O failure or a timeout below SOCKS ended the handshake.
    public mutating func fail(_ error: SOCKS5Error) -> Action {
        var error = error
        if error.phase == nil { error.phase = phase }
        if pipelinesRequest, case .awaitingReply = state, inbound.isEmpty, error.systemError == ETIMEDOUT {
            // The server answered the greeting and then nothing: the sign of one that read the
            // greeting and threw the request away with the rest of its read (microsocks does).
            error.detail =
                (error.detail.map { $0 + "; " } ?? "")
                + "the request went with the greeting (pipelining) and only the greeting was answered: "
                + "this server does not read past the greeting, turn pipelining off for it"
            // The wait was not too short: a longer one would time out the same way.
            error.hint = "Send the request after the method selection (no pipelining) to this server."
        }
        state = .failed(error)
        return .failed(error)
    }

    // MARK: - Transitions

    private mutating func advance() -> Action {
        do throws(ProtocolViolation) {
            switch state {
            case .awaitingMethodSelection:
                guard case .complete(let selection, let used) = try parseInbound(MethodSelection.parse)
                else { return .receive(nextMessageNeed) }
                inbound.removeFirst(used)
                return try methodSelected(selection.method)
            case .awaitingAuthenticationReply:
                if inbound.count >= 2, inbound[0] == socksVersion, inbound[1] != 0 {
                    // A SOCKS5 reply (05 REP …) where the RFC 1929 status (01 STATUS) belongs:
                    // a login refused in the wrong message, not a server that is not SOCKS5.
                    let rep = "REP \(hexByte(inbound[1]))"
                    let bytes = hex(inbound)
                    let detail =
                        "the server answered the login with a SOCKS5 reply (\(rep)) where the RFC 1929 status "
                        + "belongs: it refused the username/password, in the wrong message; bytes \(bytes)"
                    return fail(SOCKS5Error(code: .authenticationFailed, command: command, detail: detail))
                }
                guard case .complete(let reply, let used) = try parseInbound(UsernamePasswordReply.parse)
                else { return .receive(nextMessageNeed) }
                inbound.removeFirst(used)
                guard reply.succeeded else {
                    return fail(
                        SOCKS5Error(
                            code: .authenticationFailed,
                            command: command,
                            detail: "RFC 1929 status \(hexByte(reply.status))"
                        )
                    )
                }
                state = .awaitingReply
                return .send(SOCKSRequest(command: command, address: address).encoded())
            case .awaitingReply, .awaitingSecondBindReply:
                guard case .complete(let reply, let used) = try parseInbound(SOCKSReply.parse)
                else { return .receive(nextMessageNeed) }
                inbound.removeFirst(used)
                if let code = SOCKS5ErrorCode(reply: reply.reply) {
                    return fail(
                        SOCKS5Error(
                            code: code,
                            replyByte: reply.reply.rawValue,
                            command: command,
                            detail: "reply to \(command): \(hex(reply.encoded()))"
                        )
                    )
                }
                if command == .udpAssociate, reply.boundAddress.port == 0 {
                    // No datagram can be sent to port 0: a rendezvous that cannot be used.
                    var error = SOCKS5Error(
                        code: .malformedReply,
                        command: command,
                        detail: "the reply grants the association with BND port 0 (\(reply.boundAddress)), "
                            + "where no datagram can be sent: \(hex(reply.encoded()))"
                    )
                    error.hint =
                        "The server answered UDP ASSOCIATE without a relay port: its relay is not "
                        + "bound or not configured; its log says why."
                    return fail(error)
                }
                if command == .bind, case .awaitingReply = state {
                    state = .awaitingSecondBindReply(first: reply)
                    return .bound(reply)
                }
                state = .established(reply)
                return .established(reply)
            default:
                return pendingAction
            }
        } catch {
            return fail(
                SOCKS5Error(
                    code: .malformedReply,
                    command: command,
                    detail: "\(currentMessageName): \(Self.explain(error)); bytes \(hex(inbound))"
                )
            )
        }
    }

    private mutating func methodSelected(_ method: AuthenticationMethod) throws(ProtocolViolation) -> Action {
        if method == .noAcceptableMethods {
            return fail(
                SOCKS5Error(
                    code: .noAcceptableMethod,
                    command: command,
                    detail: "offered \(offeredMethods.map(\.description).joined(separator: ", "))"
                )
            )
        }
        guard offeredMethods.contains(method) else {
            let offered = offeredMethods.map(\.description).joined(separator: ", ")
            return fail(
                SOCKS5Error(
                    code: .methodNotOffered,
                    command: command,
                    detail: "the server selected \(method); offered \(offered)"
                )
            )
        }
        selectedMethod = method
        if pipelinesRequest {
            // The request is already out; its reply may even be here.
            state = .awaitingReply
            return advance()
        }
        if method == .usernamePassword, let credentials {
            state = .awaitingAuthenticationReply
            return .send(UsernamePasswordRequest(credentials: credentials).encoded())
        }
        state = .awaitingReply
        return .send(SOCKSRequest(command: command, address: address).encoded())
    }

    /// Runs a parser over the bytes received so far. (Array.withUnsafeBytes rethrows untyped, so
    /// the typed error travels through a Result.)
    private func parseInbound<M>(
        _ parse: (UnsafeRawBufferPointer) throws(ProtocolViolation) -> ParseResult<M>
    ) throws(ProtocolViolation) -> ParseResult<M> {
        try inbound.withUnsafeBytes { b in Result { () throws(ProtocolViolation) in try parse(b) } }.get()
    }

    /// Bytes the message being received still needs, as far as its bytes so far tell.
    private var nextMessageNeed: Int {
        let total: Int
        switch state {
        case .awaitingMethodSelection where pipelinesRequest:
            // The method selection and the start of the reply: every reply is longer than the
            // 5 bytes of its fixed part and first address byte, so this never reads past it.
            total = 2 + 5
        case .awaitingMethodSelection, .awaitingAuthenticationReply:
            total = 2
        case .awaitingReply, .awaitingSecondBindReply:
            let result = try? parseInbound(SOCKSReply.parse)
            if case .incomplete(let t) = result { total = t } else { total = inbound.count }
        default:
            total = inbound.count
        }
        return max(total - inbound.count, 0)
    }

    /// The message being waited for, while the handshake is under way.
    public var phase: HandshakePhase? {
        switch state {
        case .awaitingMethodSelection: .methodSelection
        case .awaitingAuthenticationReply: .authentication
        case .awaitingReply: .reply
        case .awaitingSecondBindReply: .secondBindReply
        default: nil
        }
    }

    private var currentMessageName: String {
        switch phase {
        case .reply?, nil: "reply to \(command)"
        case let other?: other.description
        }
    }

    static func explain(_ v: ProtocolViolation) -> String {
        switch v {
        case .wrongVersion(let expected, let got): "version byte \(hexByte(got)), expected \(hexByte(expected))"
        case .unknownAddressType(let t): "unknown address type (ATYP) \(hexByte(t))"
        case .emptyDomainName: "a domain name of length 0"
        case .domainNameWithNUL: "a domain name with a NUL byte"
        case .noMethods: "a greeting that offers no method"
        case .emptyCredentials: "an empty username or password"
        case .unknownCommand(let c): "unknown command \(hexByte(c))"
        }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.prefix(32).map(hexByte).joined(separator: " ") + (bytes.count > 32 ? " …" : "")
}
