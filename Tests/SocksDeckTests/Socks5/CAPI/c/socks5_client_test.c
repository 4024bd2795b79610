/*
 * What a C user of libsocks5 does, checked: UDP ASSOCIATE over IPv4 and IPv6 (an IPv6 Dst with
 * an IPv4 server too), socks5udp_sendto, socks5udp_recvfrom of the echo, RFC 1929 through
 * SOCKS_USERNAME/SOCKS_PASSWORD, and errno/socks5_errno on the failure paths.
 * Built by CProgramTests with gcc -Wall -Wextra -Werror against socks5.h and libsocks5.so.
 * Ports come from the environment: NOAUTH_PORT, USERPASS_PORT, MICROSOCKS_PORT, ECHO_PORT,
 * CLOSED_PORT. Prints one line per check and "N passed, M failed" at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "socks5.h"

static int passed, failed;

#define CHECK(cond, ...) do { \
    if (cond) { passed++; printf("ok   "); } else { failed++; printf("FAIL "); } \
    printf(__VA_ARGS__); printf("  [%s]\n", #cond); } while (0)

static unsigned short port_from_env(const char *name) {
    const char *v = getenv(name);
    if (!v) { fprintf(stderr, "%s is not set\n", name); exit(2); }
    return (unsigned short)atoi(v);
}

static struct sockaddr_in v4(const char *ip, unsigned short port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 v6(const char *ip, unsigned short port) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

static void set_timeout(int fd, int ms) {
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Associates through server (of family sfam), asking for a rendezvous of family dfam, then
 * sends one datagram to the echo target of family dfam and checks the reply. */
static void round_trip(const char *label, int sfam, int dfam, unsigned short server_port, unsigned short echo_port) {
    struct sockaddr_in s4 = v4("127.0.0.1", server_port);
    struct sockaddr_in6 s6 = v6("::1", server_port);
    const struct sockaddr *svr = sfam == AF_INET ? (struct sockaddr *)&s4 : (struct sockaddr *)&s6;
    size_t svrlen = sfam == AF_INET ? sizeof s4 : sizeof s6;

    struct sockaddr_storage dst;
    memset(&dst, 0, sizeof dst);
    dst.ss_family = (sa_family_t)dfam;
    size_t dstlen = dfam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);

    int ctl = socket(sfam, SOCK_STREAM, 0);
    int rc = socks5udp_associate(ctl, (struct sockaddr *)&dst, dstlen, svr, svrlen);
    CHECK(rc == 0, "%s: socks5udp_associate (errno %d, socks5_errno %d)", label, errno, socks5_errno);
    if (rc != 0) { close(ctl); return; }
    CHECK(dst.ss_family == dfam, "%s: rendezvous family follows Dst", label);
    char text[INET6_ADDRSTRLEN];
    unsigned short rport = dfam == AF_INET ? ntohs(((struct sockaddr_in *)&dst)->sin_port)
                                           : ntohs(((struct sockaddr_in6 *)&dst)->sin6_port);
    inet_ntop(dfam, dfam == AF_INET ? (void *)&((struct sockaddr_in *)&dst)->sin_addr
                                    : (void *)&((struct sockaddr_in6 *)&dst)->sin6_addr, text, sizeof text);
    CHECK(rport != 0 && (strcmp(text, "127.0.0.1") == 0 || strcmp(text, "::1") == 0),
          "%s: rendezvous %s port %u", label, text, rport);

    int data = socket(dfam, SOCK_DGRAM, 0);
    set_timeout(data, 3000);
    struct sockaddr_in e4 = v4("127.0.0.1", echo_port);
    struct sockaddr_in6 e6 = v6("::1", echo_port);
    struct sockaddr *echo = dfam == AF_INET ? (struct sockaddr *)&e4 : (struct sockaddr *)&e6;
    size_t echolen = dfam == AF_INET ? sizeof e4 : sizeof e6;
    char msg[] = "hello from C";
    rc = socks5udp_sendto(data, msg, strlen(msg), 0, echo, echolen, (struct sockaddr *)&dst, dstlen);
    CHECK(rc == 0, "%s: socks5udp_sendto returns 0, not a byte count (errno %d)", label, errno);

    char buf[256];
    struct sockaddr_storage from;
    size_t fromlen = sizeof from;
    ssize_t n = socks5udp_recvfrom(data, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen,
                                   (struct sockaddr *)&dst, dstlen);
    CHECK(n == (ssize_t)strlen(msg) && memcmp(buf, msg, strlen(msg)) == 0, "%s: echo received (%zd bytes)", label, n);
    CHECK(fromlen == echolen && memcmp(&from, echo, echolen) == 0, "%s: From is the echo target", label);
    close(data);
    close(ctl);
}

static int associate_v4(unsigned short port, int *err, int *s5) {
    struct sockaddr_in svr = v4("127.0.0.1", port);
    struct sockaddr_in dst = v4("0.0.0.0", 0);
    int ctl = socket(AF_INET, SOCK_STREAM, 0);
    int rc = socks5udp_associate(ctl, (struct sockaddr *)&dst, sizeof dst, (struct sockaddr *)&svr, sizeof svr);
    *err = errno;
    *s5 = socks5_errno;
    close(ctl);
    return rc;
}

int main(void) {
    unsigned short noauth = port_from_env("NOAUTH_PORT"), userpass = port_from_env("USERPASS_PORT");
    unsigned short micro = port_from_env("MICROSOCKS_PORT"), echo = port_from_env("ECHO_PORT");
    unsigned short closed = port_from_env("CLOSED_PORT");
    int err, s5, rc;

    unsetenv("SOCKS_USERNAME");
    unsetenv("SOCKS_PASSWORD");
    round_trip("IPv4", AF_INET, AF_INET, noauth, echo);
    round_trip("IPv6", AF_INET6, AF_INET6, noauth, echo);
    round_trip("IPv6 Dst, IPv4 server", AF_INET, AF_INET6, noauth, echo);

    rc = associate_v4(userpass, &err, &s5);
    CHECK(rc == -1 && err == EACCES && s5 == S5_ENOMETHOD, "userpass server without credentials: S5_ENOMETHOD (%d/%d)", err, s5);

    setenv("SOCKS_USERNAME", "socksuser", 1);
    setenv("SOCKS_PASSWORD", "wrong", 1);
    rc = associate_v4(userpass, &err, &s5);
    CHECK(rc == -1 && err == EACCES && s5 == S5_EAUTH, "wrong password: S5_EAUTH (%d/%d)", err, s5);

    setenv("SOCKS_PASSWORD", "sockspass", 1);
    round_trip("RFC 1929", AF_INET, AF_INET, userpass, echo);
    unsetenv("SOCKS_USERNAME");
    unsetenv("SOCKS_PASSWORD");

    rc = associate_v4(micro, &err, &s5);
    CHECK(rc == -1 && err == EOPNOTSUPP && s5 == S5_EOPNOTSUPP, "microsocks: S5_EOPNOTSUPP (%d/%d)", err, s5);
    CHECK(strstr(socks5_strerror(s5), "UDP") != NULL || strstr(socks5_strerror(s5), "support") != NULL,
          "socks5_strerror: %s", socks5_strerror(s5));

    rc = associate_v4(closed, &err, &s5);
    CHECK(rc == -1 && err == ECONNREFUSED && s5 == 0, "nothing listening: ECONNREFUSED, socks5_errno 0 (%d/%d)", err, s5);

    struct sockaddr_in svr = v4("127.0.0.1", noauth);
    int ctl = socket(AF_INET, SOCK_STREAM, 0);
    rc = socks5udp_associate(ctl, NULL, 0, (struct sockaddr *)&svr, sizeof svr);
    CHECK(rc == -1 && errno == EINVAL && socks5_errno == 0, "NULL Dst: EINVAL");
    close(ctl);

    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in dst = v4("0.0.0.0", 0);
    rc = socks5udp_associate(udp, (struct sockaddr *)&dst, sizeof dst, (struct sockaddr *)&svr, sizeof svr);
    CHECK(rc == -1 && errno == EINVAL, "SOCK_DGRAM control socket: EINVAL");
    static char big[65600];
    struct sockaddr_in target = v4("127.0.0.1", echo);
    rc = socks5udp_sendto(udp, big, 65507 - 9, 0, (struct sockaddr *)&target, sizeof target, (struct sockaddr *)&svr, sizeof svr);
    CHECK(rc == -1 && errno == EMSGSIZE, "payload over the UDP maximum: EMSGSIZE");
    close(udp);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
