import CSocks5
import Socks5

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Conventions shared by the C entry points: the AIX ones, from connect(2).

/// Sets errno and socks5_errno from a failure and returns -1.
func fail(_ error: SOCKS5Error) -> Int32 {
    errno = error.systemError
    socks5_errno = error.socks5Errno
    return -1
}

/// Reads a caller's sockaddr argument: NULL or a length too short for its family is EINVAL, a
/// family other than IPv4/IPv6 EAFNOSUPPORT (socks5_errno 0: the failure is below SOCKS).
func endpoint(_ pointer: UnsafeRawPointer?, _ length: Int, _ what: String) throws(SOCKS5Error) -> IPEndpoint {
    guard let pointer else { throw .system(EINVAL, "\(what) is NULL") }
    do {
        return try IPEndpoint(sockaddr: pointer, length: length)
    } catch .tooShort {
        throw .system(EINVAL, "\(what): length \(length) is too short for its family")
    } catch {
        throw .system(EAFNOSUPPORT, "\(what) is neither AF_INET nor AF_INET6")
    }
}

/// Writes `value` into a caller's buffer if it fits; false otherwise.
func store(_ value: IPEndpoint, into pointer: UnsafeRawPointer?, capacity: Int) -> Bool {
    guard let pointer, value.sockaddrLength <= capacity else { return false }
    value.write(to: UnsafeMutableRawPointer(mutating: pointer))
    return true
}

/// The C API always offers "no authentication" and adds RFC 1929 when both SOCKS_USERNAME and
/// SOCKS_PASSWORD are set (the names Dante's client uses); the prototypes carry no credentials.
func optionsFromEnvironment() -> SOCKS5Options {
    guard let user = getenv("SOCKS_USERNAME"), let password = getenv("SOCKS_PASSWORD") else {
        return SOCKS5Options()
    }
    return SOCKS5Options(credentials: Credentials(username: String(cString: user), password: String(cString: password)))
}
