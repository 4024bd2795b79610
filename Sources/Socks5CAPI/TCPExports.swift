import CSocks5
import Socks5

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// int socks5tcp_connect(int Socket, struct sockaddr *Dst, size_t DstLen,
///                       struct sockaddr *Svr, size_t SvrLen)
///
/// Svr NULL: the server comes from socks5_getserv's configuration (S5_ENOSERV when none).
@c(socks5tcp_connect)
public func socks5TCPConnect(
    _ socket: Int32,
    _ dst: UnsafeMutablePointer<sockaddr>?,
    _ dstLength: Int,
    _ svr: UnsafeMutablePointer<sockaddr>?,
    _ svrLength: Int
) -> Int32 {
    do throws(SOCKS5Error) {
        let target = try endpoint(dst, dstLength, "Dst")
        let server = try svr == nil ? configuredServer(for: target) : endpoint(svr, svrLength, "Svr")
        let reply = try SOCKS5Client.connect(
            controlSocket: socket,
            server: server,
            target: .ip(target),
            options: optionsFromEnvironment()
        )
        // BND is informational for CONNECT: when it is a domain or does not fit, Dst stays as
        // it was rather than failing a connection that works.
        if let bound = reply.boundAddress.endpoint { _ = store(bound, into: dst, capacity: dstLength) }
        if svr != nil { _ = store(server, into: svr, capacity: svrLength) }
        return 0
    } catch {
        return fail(error)
    }
}

/// int socks5tcp_bind(int Socket, struct sockaddr *Dst, size_t DstLen,
///                    struct sockaddr *Svr, size_t SvrLen)
@c(socks5tcp_bind)
public func socks5TCPBind(
    _ socket: Int32,
    _ dst: UnsafeMutablePointer<sockaddr>?,
    _ dstLength: Int,
    _ svr: UnsafeMutablePointer<sockaddr>?,
    _ svrLength: Int
) -> Int32 {
    do throws(SOCKS5Error) {
        let peer = try endpoint(dst, dstLength, "Dst")
        let server = try endpoint(svr, svrLength, "Svr")
        let reply = try SOCKS5Client.bind(
            controlSocket: socket,
            server: server,
            expectedPeer: .ip(peer),
            options: optionsFromEnvironment()
        )
        guard let bound = reply.boundAddress.endpoint else {
            throw SOCKS5Error(code: .domainBoundAddress, command: .bind, detail: "BND \(reply.boundAddress)")
        }
        // The rule UDP ASSOCIATE uses: an unspecified BND means the server's address, in BND's family.
        let (listening, _) = try RendezvousAddress.usable(bound, server: server, command: .bind)
        guard store(listening, into: svr, capacity: svrLength) else {
            throw SOCKS5Error.system(EINVAL, "the bound address \(listening) does not fit SvrLen \(svrLength)")
        }
        return 0
    } catch {
        return fail(error)
    }
}

/// int socks5tcp_accept(int Socket, struct sockaddr *Dst, size_t DstLen,
///                      struct sockaddr *Svr, size_t SvrLen)
@c(socks5tcp_accept)
public func socks5TCPAccept(
    _ socket: Int32,
    _ dst: UnsafeMutablePointer<sockaddr>?,
    _ dstLength: Int,
    _ svr: UnsafeMutablePointer<sockaddr>?,
    _ svrLength: Int
) -> Int32 {
    do throws(SOCKS5Error) {
        let reply = try SOCKS5Client.acceptBound(controlSocket: socket)
        if dst != nil {
            guard let peer = reply.boundAddress.endpoint else {
                throw SOCKS5Error(code: .domainBoundAddress, command: .bind, detail: "peer \(reply.boundAddress)")
            }
            guard store(peer, into: dst, capacity: dstLength) else {
                throw SOCKS5Error.system(EINVAL, "the peer address \(peer) does not fit DstLen \(dstLength)")
            }
        }
        if svr != nil, let server = IPEndpoint.peer(of: socket) {
            _ = store(server, into: svr, capacity: svrLength)
        }
        return 0
    } catch {
        return fail(error)
    }
}

private func configuredServer(for target: IPEndpoint) throws(SOCKS5Error) -> IPEndpoint {
    let configuration: ClientConfiguration
    do { configuration = try ClientConfiguration.system() } catch {
        throw SOCKS5Error(code: .configurationFile, systemError: error.systemError, detail: error.description)
    }
    switch try ServerSelection.select(
        for: target.address,
        in: configuration,
        reverseName: { ServerSelection.reverseName(of: target.address) }
    )
    {
    case .server(let server, _): return server
    case .direct: throw SOCKS5Error(code: .noServer, detail: "no server configured for \(target.address)")
    }
}
