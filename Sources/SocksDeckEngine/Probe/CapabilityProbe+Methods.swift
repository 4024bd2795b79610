import Foundation
import NIOCore
import Socks5

/// The method checks: what the server selects from a greeting that offers one method.
extension CapabilityProbe {
    /// What a server answered to a greeting offering one method.
    enum OfferAnswer: Equatable {
        case unreachable(errno: Int32)
        case selected(AuthenticationMethod)
        case notSOCKS5([UInt8])
        case closedWithoutReply
        case noReply

        var words: String {
            switch self {
            case .unreachable(let e): "unreachable (\(ErrorCatalogue.decode(errno: e).name))"
            case .selected(let method): hexDump([method.rawValue])
            case .notSOCKS5(let bytes): "not SOCKS5 (\(hexDump(bytes)))"
            case .closedWithoutReply: "closed without a reply"
            case .noReply: "no reply"
            }
        }
    }

    func offer(_ method: AuthenticationMethod, on loop: EventLoop) async -> OfferAnswer {
        let greeting = ClientGreeting(methods: [method]).encoded()
        let stream = stream("method offer \(hexDump(greeting))")
        let connection: OfferConnection
        switch await OfferConnection.connect(to: endpoint, on: loop, timeout: step) {
        case .success(let c): connection = c
        case .failure(let error): return .unreachable(errno: error.systemError)
        }
        defer {
            stream?.closed("the probe closed it: the method offer is answered")
            connection.channel.close(promise: nil)
        }
        if let stream, let local = IPEndpoint(connection.channel.localAddress) {
            stream.connected(local: local, remote: endpoint)
        }
        connection.write(greeting)
        stream?.wrote(greeting)
        let (reply, closed) = await connection.read(2, within: step)
        if !reply.isEmpty { stream?.read(reply) }
        let parsed = reply.withUnsafeBytes { try? MethodSelection.parse($0) }
        switch parsed {
        case .complete(let selection, _)?: return .selected(selection.method)
        case .incomplete?: return closed ? .closedWithoutReply : .noReply
        case nil: return .notSOCKS5(reply)
        }
    }

    func methods(on loop: EventLoop) async -> [ProbeFinding] {
        let none = await offer(.noAuthentication, on: loop)
        if case .unreachable = none {
            return [
                ProbeFinding(
                    key: .unreachable,
                    title: "reachable",
                    verdict: .no,
                    value: none.words,
                    evidence: "TCP connect to \(endpoint)"
                )
            ]
        }
        let userpass = await offer(.usernamePassword, on: loop)
        func finding(
            _ key: ProbeFinding.Key,
            _ title: String,
            _ method: AuthenticationMethod,
            _ answer: OfferAnswer
        )
            -> ProbeFinding
        {
            let value: String
            var verdict = ProbeFinding.Verdict.no
            switch answer {
            case .selected(method):
                (value, verdict) = ("yes", .yes)
            case .selected(.noAcceptableMethods)
            where method == .usernamePassword
                && none == .selected(.noAuthentication):
                // Refusing a login is no fault in a server that lets everyone in without one.
                (value, verdict) = ("no (FF): it needs no login", .info)
            case .selected(.noAcceptableMethods):
                value = "no (FF)"
            case .selected(let other):
                // RFC 1928: the server picks one of the methods offered, or FF.
                value = "no: it picked \(other), which was not offered (RFC 1928 allows only an offered method or FF)"
                if other == .noAuthentication, method == .usernamePassword { verdict = .info }
            default:
                value = answer.words
            }
            return ProbeFinding(
                key: key,
                title: title,
                verdict: verdict,
                value: value,
                evidence: "greeting \(hexDump(ClientGreeting(methods: [method]).encoded())) → \(answer.words)"
            )
        }
        return [
            finding(.methodNone, "accepts no authentication", .noAuthentication, none),
            finding(.methodUserPass, "accepts username/password (RFC 1929)", .usernamePassword, userpass),
        ]
    }
}
