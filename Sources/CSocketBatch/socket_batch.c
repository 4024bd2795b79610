#define _GNU_SOURCE
#include <stddef.h>
#include <sys/socket.h>

#include "socket_batch.h"

#define SAME_FIELD(ours, theirs)                                                                   \
    _Static_assert(offsetof(struct socket_batch_message, ours) == offsetof(struct mmsghdr, theirs) \
                       && sizeof(((struct socket_batch_message *)0)->ours)                          \
                              == sizeof(((struct mmsghdr *)0)->theirs),                             \
                   #theirs)

SAME_FIELD(header.name, msg_hdr.msg_name);
SAME_FIELD(header.name_length, msg_hdr.msg_namelen);
SAME_FIELD(header.vectors, msg_hdr.msg_iov);
SAME_FIELD(header.vector_count, msg_hdr.msg_iovlen);
SAME_FIELD(header.control, msg_hdr.msg_control);
SAME_FIELD(header.control_length, msg_hdr.msg_controllen);
SAME_FIELD(header.flags, msg_hdr.msg_flags);
SAME_FIELD(length, msg_len);
_Static_assert(sizeof(struct socket_batch_message) == sizeof(struct mmsghdr), "struct mmsghdr");
_Static_assert(SOCKET_BATCH_WAIT_FOR_ONE == MSG_WAITFORONE, "MSG_WAITFORONE");

int socket_batch_receive(int fd, struct socket_batch_message *messages, unsigned int count, int flags) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, NULL);
}

int socket_batch_send(int fd, struct socket_batch_message *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}
