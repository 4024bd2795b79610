/* Sends one datagram through a SOCKS5 server's UDP relay and prints the echo.
 * Usage: associate SERVER_IP SERVER_PORT TARGET_IP TARGET_PORT   (IPv4 literals) */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <socks5.h>

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s SERVER_IP SERVER_PORT TARGET_IP TARGET_PORT\n", argv[0]); return 2; }
    struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])) };
    struct sockaddr_in target = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[4])) };
    inet_pton(AF_INET, argv[1], &server.sin_addr);
    inet_pton(AF_INET, argv[3], &target.sin_addr);

    /* Dst goes in as any IPv4 address and comes back as the relay's rendezvous address. */
    struct sockaddr_in relay = { .sin_family = AF_INET };
    int control = socket(AF_INET, SOCK_STREAM, 0);
    if (socks5udp_associate(control, (struct sockaddr *)&relay, sizeof relay,
                            (struct sockaddr *)&server, sizeof server) != 0) {
        fprintf(stderr, "associate: %s (%s)\n", strerror(errno), socks5_strerror(socks5_errno));
        return 1;
    }
    char text[INET_ADDRSTRLEN];
    printf("rendezvous %s:%u\n", inet_ntop(AF_INET, &relay.sin_addr, text, sizeof text), ntohs(relay.sin_port));

    int data = socket(AF_INET, SOCK_DGRAM, 0);
    char message[] = "hello through SOCKS5";
    if (socks5udp_sendto(data, message, strlen(message), 0, (struct sockaddr *)&target, sizeof target,
                         (struct sockaddr *)&relay, sizeof relay) != 0) {
        perror("sendto");
        return 1;
    }
    char reply[1500];
    ssize_t n = socks5udp_recvfrom(data, reply, sizeof reply, 0, NULL, NULL,
                                   (struct sockaddr *)&relay, sizeof relay);
    if (n < 0) { perror("recvfrom"); return 1; }
    printf("echo: %.*s\n", (int)n, reply);
    close(data);
    close(control); /* ends the association */
    return 0;
}
