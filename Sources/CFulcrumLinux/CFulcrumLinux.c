#ifdef __linux__
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "CFulcrumLinux.h"

long fulcrum_splice(int from, int to, unsigned long length) {
    return splice(from, NULL, to, NULL, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

int fulcrum_pipe(int fds[2]) {
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}

int fulcrum_set_pipe_size(int fd, int size) {
    return fcntl(fd, F_SETPIPE_SZ, size);
}

int fulcrum_dup_cloexec(int fd) {
    return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

int fulcrum_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int fulcrum_epoll_add(int epfd, int fd, uint64_t tag) {
    struct epoll_event event;
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = tag;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int fulcrum_epoll_add_input(int epfd, int fd, uint64_t tag) {
    struct epoll_event event;
    event.events = EPOLLIN;
    event.data.u64 = tag;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

int fulcrum_socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return 0;
    return error;
}

int fulcrum_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

void fulcrum_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t written = write(fd, &one, sizeof one);
    (void)written;
}

void fulcrum_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t got = read(fd, &value, sizeof value);
    (void)got;
}

int fulcrum_epoll_control(int epfd, int op, int fd, uint32_t events, int edge, uint64_t tag) {
    struct epoll_event event = {0};
    event.events = events | (edge ? EPOLLET : 0);
    event.data.u64 = tag;
    return epoll_ctl(epfd, op, fd, &event);
}

int fulcrum_epoll_wait_events(int epfd, uint64_t *tags, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event ready[256];
    if (capacity > 256) capacity = 256;
    int n = epoll_wait(epfd, ready, capacity, timeout_ms);
    for (int i = 0; i < n; i++) {
        tags[i] = ready[i].data.u64;
        events[i] = ready[i].events;
    }
    return n;
}

int fulcrum_accept(int fd, void *address, uint32_t *length) {
    socklen_t size = *length;
    int accepted = accept4(fd, (struct sockaddr *)address, &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    *length = size;
    return accepted;
}

int fulcrum_send_datagrams(int fd, const unsigned char *base, const uint32_t *spans, int count) {
    enum { chunk = 64 };
    struct mmsghdr messages[chunk];
    struct iovec pieces[chunk];
    int total = 0;
    while (total < count) {
        int n = count - total < chunk ? count - total : chunk;
        for (int i = 0; i < n; i++) {
            pieces[i].iov_base = (void *)(base + spans[2 * (total + i)]);
            pieces[i].iov_len = spans[2 * (total + i) + 1];
            memset(&messages[i], 0, sizeof messages[i]);
            messages[i].msg_hdr.msg_iov = &pieces[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        int sent = sendmmsg(fd, messages, (unsigned int)n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent < 0) return total > 0 ? total : -1;
        total += sent;
        if (sent < n) return total;
    }
    return total;
}

int fulcrum_set_thread_name(unsigned long thread, const char *name) {
    return pthread_setname_np((pthread_t)thread, name);
}
#endif
