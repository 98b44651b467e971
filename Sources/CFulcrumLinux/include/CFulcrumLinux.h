/// Linux system calls the Swift Glibc module does not export (they need _GNU_SOURCE or
/// live in headers it leaves out): splice(2), pipe2(2), epoll and eventfd, for the
/// relay that moves TCP-mode bytes between sockets without copying them.
///
/// Only plain C types appear here: the system headers are included by the source file
/// alone, so that their _GNU_SOURCE definitions do not clash with other modules' view
/// of the same headers.
#ifndef C_FULCRUM_LINUX_H
#define C_FULCRUM_LINUX_H

#include <stdint.h>

/// Moves up to `length` bytes from `from` to `to`, one of them a pipe, without blocking.
long fulcrum_splice(int from, int to, unsigned long length);
/// A non-blocking pipe, closed on exec: fds[0] reads, fds[1] writes.
int fulcrum_pipe(int fds[2]);
/// Sets a pipe's capacity; returns the capacity granted, or -1.
int fulcrum_set_pipe_size(int fd, int size);
/// A duplicate descriptor, closed on exec.
int fulcrum_dup_cloexec(int fd);

int fulcrum_epoll_create(void);
/// Adds `fd` to the epoll set, edge-triggered, for input, output, peer shutdown and errors.
int fulcrum_epoll_add(int epfd, int fd, uint64_t tag);
/// Adds `fd` for input only, level-triggered (the wake-up eventfd).
int fulcrum_epoll_add_input(int epfd, int fd, uint64_t tag);
/// The pending error of a socket (SO_ERROR, which reading clears), 0 for none.
int fulcrum_socket_error(int fd);

/// The readiness the event loop asks for: input, output, the peer's shutdown, errors.
#define FULCRUM_EV_IN 0x001u
#define FULCRUM_EV_OUT 0x004u
#define FULCRUM_EV_ERR 0x008u
#define FULCRUM_EV_HUP 0x010u
#define FULCRUM_EV_RDHUP 0x2000u
/// Adds (`op` 1), changes (3) or removes (2) `fd` in the epoll set; `edge` makes the
/// interest edge-triggered. `tag` comes back with each of its events.
int fulcrum_epoll_control(int epfd, int op, int fd, uint32_t events, int edge, uint64_t tag);
/// Waits at most `timeout_ms` (-1: forever) for at most `capacity` events (at most
/// 256); fills `tags` and `events` (FULCRUM_EV_* bits) for each.
int fulcrum_epoll_wait_events(int epfd, uint64_t *tags, uint32_t *events, int capacity, int timeout_ms);
/// Accepts one connection, non-blocking and closed on exec, with the peer's address in
/// `address` (at least 128 bytes) and its length in `length`; -1 and errno otherwise.
int fulcrum_accept(int fd, void *address, uint32_t *length);

/// Sends `count` datagrams on the connected socket `fd`, datagram i being the
/// `spans[2i+1]` bytes at `base + spans[2i]`, with `sendmmsg` (at most 64 per call),
/// without blocking. Returns how many went (a short count: the next one failed), or -1
/// and errno when the first one failed.
int fulcrum_send_datagrams(int fd, const unsigned char *base, const uint32_t *spans, int count);

/// Names a thread (at most 15 bytes show in ps and top).
int fulcrum_set_thread_name(unsigned long thread, const char *name);

int fulcrum_eventfd(void);
void fulcrum_eventfd_signal(int fd);
void fulcrum_eventfd_drain(int fd);

#endif
