import Socks5

/// The server side of a SOCKS5 handshake as a value, on the library's codec: bytes in, bytes and
/// decisions out, no sockets. The relay's channel handler drives it; tests drive it directly.
struct ServerHandshake {
    enum State: Equatable {
        case awaitingGreeting
        case awaitingCredentials
        case awaitingRequest
        case done
    }

    enum Action: Equatable {
        case send([UInt8])
        /// Send, then close: a refusal.
        case sendAndClose([UInt8], reason: String)
        /// Close without a word: the client broke the protocol.
        case close(reason: String)
        /// The RFC 1929 success reply to send: `user` logged in. Its own action, once per login,
        /// however the client's bytes were split into reads.
        case authenticated([UInt8], user: String)
        /// A well-formed request: the server decides what to answer.
        case request(SOCKSRequest)
    }

    private(set) var state: State = .awaitingGreeting
    /// When set, RFC 1929 is required and checked against these.
    let required: Credentials?
    /// The user who authenticated, if any.
    private(set) var user: String?
    private var inbound: [UInt8] = []

    init(required: Credentials?) { self.required = required }

    /// Feeds bytes; returns what to do, in order. Bytes past the request (a client that pipelines
    /// data after CONNECT) stay in `leftover`.
    mutating func receive(_ bytes: some Sequence<UInt8>) -> [Action] {
        inbound.append(contentsOf: bytes)
        var actions: [Action] = []
        while state != .done {
            guard let action = step() else { break }
            actions.append(action)
            if case .sendAndClose = action { state = .done }
            if case .close = action { state = .done }
        }
        return actions
    }

    var leftover: [UInt8] { state == .done ? inbound : [] }

    /// Bytes received of the message now awaited (a stalled client's partial greeting, login or request).
    var pendingBytes: Int { state == .done ? 0 : inbound.count }

    private mutating func step() -> Action? {
        do throws(ProtocolViolation) {
            switch state {
            case .awaitingGreeting:
                guard case .complete(let greeting, let used) = try parse(ClientGreeting.parse) else { return nil }
                inbound.removeFirst(used)
                let wanted: AuthenticationMethod = required == nil ? .noAuthentication : .usernamePassword
                guard greeting.methods.contains(wanted) else {
                    return .sendAndClose(
                        MethodSelection(method: .noAcceptableMethods).encoded(),
                        reason:
                            "no acceptable method: offered "
                            + "\(greeting.methods.map(\.description).joined(separator: ", ")), need \(wanted)"
                    )
                }
                state = required == nil ? .awaitingRequest : .awaitingCredentials
                return .send(MethodSelection(method: wanted).encoded())
            case .awaitingCredentials:
                guard case .complete(let request, let used) = try parse(UsernamePasswordRequest.parse) else {
                    return nil
                }
                inbound.removeFirst(used)
                let given = request.credentials
                guard let required, Self.constantTimeEqual(given.username, required.username),
                    Self.constantTimeEqual(given.password, required.password)
                else {
                    return .sendAndClose(
                        UsernamePasswordReply(status: 1).encoded(),
                        reason:
                            "username/password rejected for user '\(String(decoding: given.username, as: UTF8.self))'"
                    )
                }
                let name = String(decoding: given.username, as: UTF8.self)
                user = name
                state = .awaitingRequest
                return .authenticated(UsernamePasswordReply(status: 0).encoded(), user: name)
            case .awaitingRequest:
                let result: ParseResult<SOCKSRequest>
                do { result = try parse(SOCKSRequest.parse) } catch .unknownCommand(let c) {
                    return .sendAndClose(
                        SOCKSReply(reply: .commandNotSupported, boundAddress: .unspecified(.ipv4)).encoded(),
                        reason: "unknown command \(c)"
                    )
                }
                guard case .complete(let request, let used) = result else { return nil }
                inbound.removeFirst(used)
                state = .done
                return .request(request)
            case .done:
                return nil
            }
        } catch {
            return .close(reason: "protocol violation: \(error)")
        }
    }

    private func parse<M>(
        _ parser: (UnsafeRawBufferPointer) throws(ProtocolViolation) -> ParseResult<M>
    ) throws(ProtocolViolation) -> ParseResult<M> {
        try inbound.withUnsafeBytes { b in Result { () throws(ProtocolViolation) in try parser(b) } }.get()
    }

    /// Compares without an early exit, so the time taken says nothing about where a guess went wrong.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
