import CSocks5
import Foundation
import Socks5

/// Calls into the C entry points exactly as a C program would: through socks5.h's
/// declarations, with sockaddr buffers and size_t lengths.
enum CAPI {
    struct Outcome {
        var rc: Int32
        var errno: Int32
        var s5: Int32
        /// The Dst buffer after the call.
        var dst: IPEndpoint?
    }

    static func associate(
        socket fd: Int32,
        dstFamily: AddressFamily,
        dstLength: Int? = nil,
        server: IPEndpoint
    ) -> Outcome {
        var dst = sockaddr_storage()
        let dstEndpoint = IPEndpoint(.unspecified(dstFamily), port: 0)
        let written = withUnsafeMutableBytes(of: &dst) { dstEndpoint.write(to: $0.baseAddress!) }
        var svr = sockaddr_storage()
        let svrLength = withUnsafeMutableBytes(of: &svr) { server.write(to: $0.baseAddress!) }
        errno = 0
        socks5_errno = -1
        let rc = withUnsafePointer(to: &dst) { d in
            withUnsafePointer(to: &svr) { s in
                d.withMemoryRebound(to: sockaddr.self, capacity: 1) { dp in
                    s.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                        socks5udp_associate(fd, dp, dstLength ?? written, sp, svrLength)
                    }
                }
            }
        }
        let e = errno
        let s5 = socks5_errno
        return Outcome(rc: rc, errno: e, s5: s5, dst: IPEndpoint(storage: dst))
    }
}

/// Runs `body` and returns how long it took, in seconds.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = Date()
    let value = try body()
    return (value, Date().timeIntervalSince(start))
}
