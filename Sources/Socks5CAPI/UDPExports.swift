import CSocks5
import Socks5

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The Swift signatures must match socks5.h by hand: @c checks neither. size_t is Int, int is
// Int32, ssize_t is Int. The C test program (Tests/SocksDeckTests/Socks5/CAPI/c) is what catches a mismatch.

/// int socks5udp_associate(int Socket, const struct sockaddr *Dst, size_t DstLen,
///                         const struct sockaddr *Svr, size_t SvrLen)
///
/// Dst is `const` yet overwritten with the rendezvous address, as AIX documents.
@c(socks5udp_associate)
public func socks5UDPAssociate(
    _ socket: Int32,
    _ dst: UnsafePointer<sockaddr>?,
    _ dstLength: Int,
    _ svr: UnsafePointer<sockaddr>?,
    _ svrLength: Int
) -> Int32 {
    do throws(SOCKS5Error) {
        let target = try endpoint(dst, dstLength, "Dst")
        let server = try endpoint(svr, svrLength, "Svr")
        let rendezvous = try SOCKS5Client.associateUDP(
            controlSocket: socket,
            server: server,
            family: target.family,
            options: optionsFromEnvironment()
        )
        guard store(rendezvous.asUsed, into: dst, capacity: dstLength) else {
            return fail(.system(EINVAL, "the rendezvous address \(rendezvous.asUsed) does not fit DstLen \(dstLength)"))
        }
        return 0
    } catch {
        return fail(error)
    }
}

/// int socks5udp_sendto(int Socket, void *Message, size_t MsgLen, int Flags,
///                      struct sockaddr *Dst, size_t DstLen, struct sockaddr *Svr, size_t SvrLen)
@c(socks5udp_sendto)
public func socks5UDPSendTo(
    _ socket: Int32,
    _ message: UnsafeMutableRawPointer?,
    _ messageLength: Int,
    _ flags: Int32,
    _ dst: UnsafeMutablePointer<sockaddr>?,
    _ dstLength: Int,
    _ svr: UnsafeMutablePointer<sockaddr>?,
    _ svrLength: Int
) -> Int32 {
    do throws(SOCKS5Error) {
        let target = try endpoint(dst, dstLength, "Dst")
        let relay = try endpoint(svr, svrLength, "Svr")
        guard message != nil || messageLength == 0 else { throw SOCKS5Error.system(EFAULT, "Message is NULL") }
        try DatagramIO.send(
            socket: socket,
            payload: UnsafeRawBufferPointer(start: message, count: messageLength),
            to: .ip(target),
            relay: relay,
            flags: flags
        )
        return 0
    } catch {
        return fail(error)
    }
}

/// ssize_t socks5udp_recvfrom(int Socket, void *Buffer, size_t Len, int Flags,
///                            struct sockaddr *From, size_t *FromLen,
///                            const struct sockaddr *Svr, size_t SvrLen)
@c(socks5udp_recvfrom)
public func socks5UDPRecvFrom(
    _ socket: Int32,
    _ buffer: UnsafeMutableRawPointer?,
    _ length: Int,
    _ flags: Int32,
    _ from: UnsafeMutablePointer<sockaddr>?,
    _ fromLength: UnsafeMutablePointer<Int>?,
    _ svr: UnsafePointer<sockaddr>?,
    _ svrLength: Int
) -> Int {
    do throws(SOCKS5Error) {
        let relay = try endpoint(svr, svrLength, "Svr")
        guard buffer != nil || length == 0 else { throw SOCKS5Error.system(EFAULT, "Buffer is NULL") }
        guard from == nil || fromLength != nil else { throw SOCKS5Error.system(EFAULT, "From given without FromLen") }
        let capacity = fromLength?.pointee ?? 0
        let datagram = try DatagramIO.receive(
            socket: socket,
            into: UnsafeMutableRawBufferPointer(start: buffer, count: length),
            relay: relay,
            flags: flags,
            accept: { sender in
                // A C caller gets a sockaddr: a domain sender, or one that does not fit, is skipped.
                guard let e = sender.endpoint else { return false }
                return from == nil || e.sockaddrLength <= capacity
            }
        )
        if let from, let sender = datagram.sender.endpoint {
            fromLength?.pointee = sender.write(to: UnsafeMutableRawPointer(from))
        }
        return datagram.length
    } catch {
        return Int(fail(error))
    }
}
