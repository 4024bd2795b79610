#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An ICMP error that answered a datagram a socket sent, as the kernel queued it (Linux's
/// IP_RECVERR / IPV6_RECVERR): the only way a UDP socket learns that nothing listens at the other
/// end, or that the way there is closed.
public struct ICMPError: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case portUnreachable, hostUnreachable, networkUnreachable, prohibited, other

        public var description: String {
            switch self {
            case .portUnreachable: "port unreachable"
            case .hostUnreachable: "host unreachable"
            case .networkUnreachable: "network unreachable"
            case .prohibited: "administratively prohibited"
            case .other: "error"
            }
        }
    }

    public var kind: Kind
    public var isICMPv6: Bool
    public var type: UInt8
    public var code: UInt8
    /// What the kernel maps it to (ECONNREFUSED for a port unreachable).
    public var errnoValue: Int32
    /// The host that sent the ICMP message, when the kernel says.
    public var sender: IPAddress?
    /// Where the datagram it answers was going.
    public var destination: IPEndpoint?

    public init(
        isICMPv6: Bool,
        type: UInt8,
        code: UInt8,
        errnoValue: Int32,
        sender: IPAddress? = nil,
        destination: IPEndpoint? = nil
    ) {
        self.isICMPv6 = isICMPv6
        self.type = type
        self.code = code
        self.errnoValue = errnoValue
        self.sender = sender
        self.destination = destination
        kind = Self.kind(isICMPv6: isICMPv6, type: type, code: code)
    }

    /// RFC 792's destination unreachable (type 3) and RFC 4443's (type 1), by code.
    static func kind(isICMPv6: Bool, type: UInt8, code: UInt8) -> Kind {
        switch (isICMPv6, type, code) {
        case (false, 3, 3), (true, 1, 4): .portUnreachable
        case (false, 3, 1), (true, 1, 3): .hostUnreachable
        case (false, 3, 0), (true, 1, 0): .networkUnreachable
        case (false, 3, 9), (false, 3, 10), (false, 3, 13), (true, 1, 1): .prohibited
        default: .other
        }
    }

    public var description: String {
        "ICMP\(isICMPv6 ? "v6" : "") \(kind) (type \(type) code \(code))" + (sender.map { " from \($0)" } ?? "")
            + (destination.map { " for a datagram to \($0)" } ?? "")
    }
}

/// The kernel's per-socket queue of ICMP errors: off by default for an unconnected UDP socket,
/// whose errors are otherwise dropped without a word.
public enum ICMPErrorQueue {
    // <linux/in.h> and <linux/in6.h>; Glibc's module does not export them.
    static let ipRecvErr: Int32 = 11
    static let ipv6RecvErr: Int32 = 25
    /// <linux/errqueue.h>: the error came from an ICMP or ICMPv6 message.
    static let originICMP: UInt8 = 2
    static let originICMP6: UInt8 = 3

    /// Asks the kernel to queue `fd`'s ICMP errors; on an inet6 socket at both levels, as its
    /// IPv4-mapped peers draw ICMPv4. While one is queued, the socket's next send or receive fails
    /// once with its errno (ECONNREFUSED for a port unreachable). False when neither level took it.
    @discardableResult
    public static func enable(_ fd: Int32) -> Bool {
        var on: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        let v4 = setsockopt(fd, Int32(IPPROTO_IP), ipRecvErr, &on, size) == 0
        let v6 = setsockopt(fd, Int32(IPPROTO_IPV6), ipv6RecvErr, &on, size) == 0
        return v4 || v6
    }

    /// The oldest queued ICMP error, taken off the queue; nil when none is queued (never blocks).
    public static func next(_ fd: Int32) -> ICMPError? {
        var name = sockaddr_storage()
        var control = [UInt8](repeating: 0, count: 512)
        var data = [UInt8](repeating: 0, count: 64)
        return data.withUnsafeMutableBytes { dataBytes -> ICMPError? in
            control.withUnsafeMutableBytes { controlBytes -> ICMPError? in
                withUnsafeMutablePointer(to: &name) { namePointer -> ICMPError? in
                    var vector = iovec(iov_base: dataBytes.baseAddress, iov_len: dataBytes.count)
                    return withUnsafeMutablePointer(to: &vector) { vectorPointer -> ICMPError? in
                        var message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(namePointer)
                        message.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        message.msg_iov = vectorPointer
                        message.msg_iovlen = 1
                        message.msg_control = controlBytes.baseAddress
                        message.msg_controllen = controlBytes.count
                        guard recvmsg(fd, &message, Int32(MSG_ERRQUEUE) | Int32(MSG_DONTWAIT)) >= 0 else { return nil }
                        let destination = try? IPEndpoint(
                            sockaddr: UnsafeRawPointer(namePointer),
                            length: Int(message.msg_namelen)
                        )
                        return parse(
                            UnsafeRawBufferPointer(rebasing: controlBytes[0..<Int(message.msg_controllen)]),
                            destination: destination.map { IPEndpoint($0.address.unmapped, port: $0.port) }
                        )
                    }
                }
            }
        }
    }

    /// Walks the control messages (struct cmsghdr: a size_t length, then level and type, then the
    /// data at the next size_t boundary) for the sock_extended_err of an ICMP origin.
    static func parse(_ control: UnsafeRawBufferPointer, destination: IPEndpoint?) -> ICMPError? {
        let header = MemoryLayout<Int>.size + 2 * MemoryLayout<Int32>.size
        let align = MemoryLayout<Int>.size
        var offset = 0
        while offset + header <= control.count {
            let length = control.loadUnaligned(fromByteOffset: offset, as: Int.self)
            guard length >= header, offset + length <= control.count else { return nil }
            let level = control.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size, as: Int32.self)
            let type = control.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size + 4, as: Int32.self)
            let dataStart = offset + (header + align - 1) / align * align
            let dataLength = offset + length - dataStart
            if (level == Int32(IPPROTO_IP) && type == ipRecvErr)
                || (level == Int32(IPPROTO_IPV6) && type == ipv6RecvErr),
                dataLength >= 16
            {
                let error = control.loadUnaligned(fromByteOffset: dataStart, as: UInt32.self)
                let origin = control[dataStart + 4]
                guard origin == originICMP || origin == originICMP6 else { return nil }
                // SO_EE_OFFENDER: the sender's sockaddr follows the 16-byte sock_extended_err.
                let offender =
                    dataLength > 16
                    ? (try? IPEndpoint(
                        sockaddr: control.baseAddress! + dataStart + 16,
                        length: dataLength - 16
                    ))?.address : nil
                return ICMPError(
                    isICMPv6: origin == originICMP6,
                    type: control[dataStart + 5],
                    code: control[dataStart + 6],
                    errnoValue: Int32(bitPattern: error),
                    sender: offender?.unmapped,
                    destination: destination
                )
            }
            offset += (length + align - 1) / align * align
        }
        return nil
    }
}
