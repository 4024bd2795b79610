/*
 * socks5.h - SOCKSv5 client subroutines (RFC 1928, RFC 1929), compatible with IBM AIX's libc API.
 *
 * Link with -lsocks5. Every function follows connect(2)'s conventions: 0 (or a length) on success;
 * -1 on failure with errno set to the system error and socks5_errno to an S5_* code, which is 0
 * when the failure happened below SOCKS (the TCP connect, an I/O error or timeout on the control
 * connection, an invalid argument). Output parameters are written only on success.
 *
 * Lengths are size_t, not socklen_t (AIX). The address family is read from sa_family and checked
 * against the length given; sa_len is never used.
 */
#ifndef SOCKS5_H
#define SOCKS5_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- socks5_errno codes --------------------------------------------------------------------
 * The names are AIX's; AIX does not publish their values, so each equals the RFC 1928 reply code
 * that causes it (a REP byte maps to itself). errno after such a failure is set so that perror()
 * says something true: REP 2 -> EACCES, 3 -> ENETUNREACH, 4 -> EHOSTUNREACH, 5 -> ECONNREFUSED,
 * 6 -> ETIMEDOUT, 7 -> EOPNOTSUPP, 8 -> EAFNOSUPPORT, REP 1 -> EPROTO.
 */
#define S5_ESRVFAIL      1  /* general SOCKS server failure (REP 1)                    errno EPROTO */
#define S5_EPERM         2  /* connection not allowed by the server's rule set (REP 2)  errno EACCES */
#define S5_ENETUNREACH   3  /* server could not reach the target network (REP 3)  errno ENETUNREACH */
#define S5_EHOSTUNREACH  4  /* server could not reach the target host (REP 4)    errno EHOSTUNREACH */
#define S5_ECONNREFUSED  5  /* target refused the server's connection (REP 5)    errno ECONNREFUSED */
#define S5_ETIMEDOUT     6  /* TTL expired (REP 6)                                  errno ETIMEDOUT */
#define S5_EOPNOTSUPP    7  /* command not supported by the server (REP 7)         errno EOPNOTSUPP */
#define S5_EAFNOSUPPORT  8  /* address type not supported by the server (REP 8)   errno EAFNOSUPPORT */
#define S5_ENOSERV       9  /* no SOCKS server configured for the destination  errno EHOSTUNREACH */

/* Extension codes: failures the AIX table has no name for. */
#define S5_ENOMETHOD    10  /* the server accepted none of the offered methods (FF)  errno EACCES */
#define S5_EAUTH        11  /* the server rejected the username/password (RFC 1929), also when it
                               answers the login with a SOCKS5 reply (05 REP) instead of the RFC
                               1929 status                                          errno EACCES */
#define S5_EBADREPLY    12  /* malformed reply: wrong version, unknown address type, empty domain
                               name, or a UDP ASSOCIATE granted with BND port 0 (nothing can be
                               sent there)                                          errno EPROTO */
#define S5_EUNASSIGNED  13  /* a REP value RFC 1928 does not assign (9..255)         errno EPROTO */
#define S5_ECLOSED      14  /* the server closed the control connection (EOF) before its reply was
                               complete: a truncated reply, so errno EPROTO. A reply cut short after
                               its REP byte is that REP's code instead (05 07 00 then EOF: S5_EOPNOTSUPP,
                               errno EOPNOTSUPP), its detail saying it was cut short. A reset (RST) is
                               an I/O error: errno ECONNRESET, socks5_errno 0       errno EPROTO */
#define S5_EBNDDOMAIN   15  /* the server gave its bound/relay address as a domain name, which
                               cannot be returned as a struct sockaddr       errno EAFNOSUPPORT */
#define S5_EBADMETHOD   16  /* the server selected an authentication method the client did not
                               offer (RFC 1928 allows only offered ones or FF)      errno EPROTO */
#define S5_EBNDFAMILY   17  /* BND was unspecified (0.0.0.0 or ::) and no address of the server
                               in BND's family is known (e.g. BND 0.0.0.0 from a server reached
                               at a global IPv6 address)                      errno EAFNOSUPPORT */
#define S5_ECONFIG      18  /* the client configuration file (/etc/socks5c.conf or SOCKS5C_CONFIG's)
                               has a malformed line or cannot be read; `socksdeck getserv ADDRESS`
                               names the line          errno EINVAL, or the read's errno (ENOENT) */

/* The handshake waits at most this long for each message from the server unless the caller set
 * SO_RCVTIMEO / SO_SNDTIMEO on the socket, which are honoured instead. Expiry: errno ETIMEDOUT,
 * socks5_errno 0. */
#define SOCKS5_DEFAULT_TIMEOUT_MS 10000

/* The SOCKS-level code of the calling thread's last failure. AIX calls it a global; it is
 * thread-local here, as errno is, because that is the only safe choice for a library. */
#if defined(__has_attribute)
#  if __has_attribute(swift_attr)
__attribute__((swift_attr("nonisolated(unsafe)")))
#  endif
#endif
extern __thread int socks5_errno;

/* UDP ASSOCIATE through the server Svr over the SOCK_STREAM socket Socket (not yet connected:
 * this function connects it). On success returns 0 and OVERWRITES Dst, despite the const (AIX),
 * with the rendezvous address: the relay's BND.ADDR:BND.PORT, where datagrams are to be sent with
 * socks5udp_sendto from a SOCK_DGRAM socket. The association lives as long as Socket stays open.
 *
 * The request declares the all-zero address of Dst's family (0.0.0.0:0 or [::]:0) as DST: RFC 1928
 * defines the field as the client's own sending address, and a wrong one makes real servers (Dante)
 * silently drop every datagram. The C API has no data socket, so it cannot declare the port the
 * datagrams will come from (as the Swift API and socksdeck do by default): a server that sends
 * replies only to the declared address (hpsockd) relays nothing back to a C caller.
 * A BND of 0.0.0.0 or :: means "the server's address": it is replaced by an address of the server
 * in BND's family, keeping BND.PORT (a relay that answers 0.0.0.0 listens on IPv4 only): Svr itself
 * when its family matches, the IPv4 form of a v4-mapped Svr, 127.0.0.1 for ::1 (::1 for 127.x.y.z);
 * otherwise -1 with S5_EBNDFAMILY. An IPv4 rendezvous written into an IPv6-sized Dst is a plain
 * sockaddr_in: check sa_family. If the rendezvous address does not fit DstLen: -1, errno EINVAL, Dst untouched.
 *
 * Authentication: "no authentication" is always offered; RFC 1929 username/password too when the
 * environment holds both SOCKS_USERNAME and SOCKS_PASSWORD (the names Dante's client uses).
 * On failure Socket is left open, as connect(2) leaves it; the caller closes it. */
int socks5udp_associate(int Socket, const struct sockaddr *Dst, size_t DstLen,
                        const struct sockaddr *Svr, size_t SvrLen);

/* Sends Message as one datagram to the target Dst through the relay at Svr, the rendezvous
 * address from socks5udp_associate (not the server's TCP address). Prepends the RFC 1928 UDP
 * header. Returns 0 on success, not a byte count (AIX); errno from sendmsg(2). Header plus
 * payload over the UDP maximum (65,507 bytes to an IPv4 relay, 65,527 to an IPv6 one): -1, EMSGSIZE. */
int socks5udp_sendto(int Socket, void *Message, size_t MsgLen, int Flags,
                     struct sockaddr *Dst, size_t DstLen, struct sockaddr *Svr, size_t SvrLen);

/* Extension (AIX has no receive function): receives one datagram relayed through Svr, strips the
 * UDP header, writes the remote sender (the header's address) into From and its length into
 * *FromLen (From may be NULL), and returns the payload length, truncated to Len as recvfrom(2)
 * truncates. Datagrams not from Svr, with FRAG != 0, malformed ones, and those whose sender is a
 * domain name or does not fit *FromLen are skipped silently. With MSG_DONTWAIT and nothing valid
 * waiting: -1 with EAGAIN. */
ssize_t socks5udp_recvfrom(int Socket, void *Buffer, size_t Len, int Flags,
                           struct sockaddr *From, size_t *FromLen,
                           const struct sockaddr *Svr, size_t SvrLen);

/* CONNECT to Dst through Svr over the SOCK_STREAM Socket, which this function connects. Svr may be
 * NULL: the server then comes from socks5_getserv (S5_ENOSERV when there is none). On success
 * returns 0, reads and writes on Socket reach Dst, Dst gets the server's BND address (left as it
 * was when BND is a domain name or does not fit DstLen) and Svr, when not NULL, the server used. */
int socks5tcp_connect(int Socket, struct sockaddr *Dst, size_t DstLen,
                      struct sockaddr *Svr, size_t SvrLen);

/* BIND: asks Svr to accept one incoming connection from Dst. On success returns 0 and overwrites
 * Svr with the address the server listens on (the first reply's BND); tell the peer to connect
 * there, then call socks5tcp_accept. Svr may not be NULL. */
int socks5tcp_bind(int Socket, struct sockaddr *Dst, size_t DstLen,
                   struct sockaddr *Svr, size_t SvrLen);

/* After socks5tcp_bind: waits on the same Socket for the second BIND reply, i.e. until the remote
 * peer has connected; Socket then carries the data. On success returns 0, Dst (if not NULL) gets
 * the remote peer's address (the second reply's BND) and Svr (if not NULL) the SOCKS server's
 * end of Socket (getpeername). */
int socks5tcp_accept(int Socket, struct sockaddr *Dst, size_t DstLen,
                     struct sockaddr *Svr, size_t SvrLen);

/* Chooses the SOCKS server for the destination in Dst from /etc/socks5c.conf, or the file named
 * by SOCKS5C_CONFIG. On success writes the server's address (default port 1080) into Dst and
 * returns Dst. Returns NULL with errno untouched when the best match is NONE or nothing matches;
 * NULL with errno set on an error: EAFNOSUPPORT (Dst not IPv4/IPv6), EFAULT (Dst NULL), EINVAL
 * (DstLen too small for Dst's family, or a malformed configuration file), ENOMEM (Dst too small
 * for the server's address), ENOENT (SOCKS5C_CONFIG names a file that does not exist).
 * File format: one record a line, "destination[/prefixlength] server[:port]", '#' comments;
 * server NONE means "direct"; a host-name fragment as destination matches a suffix of the
 * destination's reverse-resolved name and beats any address record. */
struct sockaddr *socks5_getserv(struct sockaddr *Dst, size_t DstLen);

/* A sentence that explains an S5_* code (extension codes included), for people. Never NULL; an
 * unknown code gets a sentence saying so. The string is static: do not free it. */
const char *socks5_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* SOCKS5_H */
