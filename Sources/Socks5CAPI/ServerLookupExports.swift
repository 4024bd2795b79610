import CSocks5
import Socks5

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// struct sockaddr *socks5_getserv(struct sockaddr *Dst, size_t DstLen)
///
/// Writes the chosen server into Dst and returns Dst; NULL with errno untouched for NONE or no
/// match; NULL with errno set on an error (see socks5.h).
@c(socks5_getserv)
public func socks5GetServ(_ dst: UnsafeMutablePointer<sockaddr>?, _ dstLength: Int) -> UnsafeMutablePointer<sockaddr>? {
    guard let dst else {
        errno = EFAULT
        return nil
    }
    let destination: IPEndpoint
    do {
        destination = try IPEndpoint(sockaddr: dst, length: dstLength)
    } catch .tooShort {
        errno = EINVAL
        return nil
    } catch {
        errno = EAFNOSUPPORT
        return nil
    }
    do {
        let configuration = try ClientConfiguration.system()
        let outcome = try ServerSelection.select(
            for: destination.address,
            in: configuration,
            reverseName: { ServerSelection.reverseName(of: destination.address) }
        )
        guard case .server(let server, _) = outcome else { return nil }
        guard server.sockaddrLength <= dstLength else {
            errno = ENOMEM
            return nil
        }
        server.write(to: dst)
        return dst
    } catch let error as ConfigurationError {
        errno = error.systemError
        socks5_errno = SOCKS5ErrorCode.configurationFile.rawValue
        return nil
    } catch let error as SOCKS5Error {
        // A server named by host name that does not resolve.
        errno = error.systemError
        socks5_errno = error.socks5Errno
        return nil
    } catch {
        errno = EINVAL
        return nil
    }
}

/// const char *socks5_strerror(int code)
@c(socks5_strerror)
public func socks5StrError(_ code: Int32) -> UnsafePointer<CChar> {
    StaticSentences.shared.sentence(for: code)
}

/// The catalogue's sentences as C strings that live as long as the process, built once. An
/// unknown code gets one shared sentence, so repeated calls allocate nothing.
private final class StaticSentences: @unchecked Sendable {
    static let shared = StaticSentences()

    private let known: [Int32: UnsafePointer<CChar>]
    private let unknown: UnsafePointer<CChar>

    private init() {
        var table: [Int32: UnsafePointer<CChar>] = [:]
        for code in SOCKS5ErrorCode.allCases {
            let d = ErrorCatalogue.decode(s5: code.rawValue)
            table[code.rawValue] = UnsafePointer(strdup("\(d.name): \(d.sentence)")!)
        }
        table[0] = UnsafePointer(strdup("no SOCKS-level error (see errno)")!)
        known = table
        unknown = UnsafePointer(strdup("unknown socks5_errno code")!)
    }

    func sentence(for code: Int32) -> UnsafePointer<CChar> { known[code] ?? unknown }
}
