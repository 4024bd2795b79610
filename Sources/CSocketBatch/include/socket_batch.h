#ifndef SOCKSDECK_SOCKET_BATCH_H
#define SOCKSDECK_SOCKET_BATCH_H

#include <stddef.h>

/*
 * recvmmsg(2) and sendmmsg(2) for Swift. Glibc declares them, and struct mmsghdr, only under
 * _GNU_SOURCE, which Swift's Glibc module is not built with.
 *
 * This header includes no system header on purpose: once a C module of ours includes
 * <sys/socket.h>, Clang credits some of Glibc's socket macros (MSG_PEEK, MSG_DONTWAIT) to that
 * module, and every Swift file using them would have to import it. So struct mmsghdr is spelt
 * out field by field; socket_batch.c checks each offset against glibc's.
 */
struct socket_batch_header { /* struct msghdr */
    void *name;
    unsigned int name_length;
    void *vectors; /* struct iovec * */
    size_t vector_count;
    void *control;
    size_t control_length;
    int flags;
};

struct socket_batch_message { /* struct mmsghdr */
    struct socket_batch_header header;
    /* What the kernel wrote: bytes received (the datagram's whole length with MSG_TRUNC) or sent. */
    unsigned int length;
};

/* MSG_WAITFORONE: block for the first datagram only, then take what is queued without waiting. */
#define SOCKET_BATCH_WAIT_FOR_ONE 0x10000

/* recvmmsg(fd, messages, count, flags, NULL): the number of messages filled, or -1 and errno. */
int socket_batch_receive(int fd, struct socket_batch_message *messages, unsigned int count, int flags);

/* sendmmsg(fd, messages, count, flags): the number of messages sent, or -1 and errno. */
int socket_batch_send(int fd, struct socket_batch_message *messages, unsigned int count, int flags);

#endif
