/* Byte movers for the benchmark, compiled by bench/run with cc at run time.
 *
 *   bulk serve PORT            TCP server (a process per connection): reads a 9-byte
 *                              header ('U' or 'D' and a big-endian 64-bit size); for 'U'
 *                              reads that many bytes and answers one byte 'K'; for 'D'
 *                              writes that many bytes, then closes.
 *   bulk up HOST PORT BYTES    client: sends BYTES, waits for the 'K'; prints seconds
 *   bulk down HOST PORT BYTES  client: receives BYTES; prints seconds
 *   bulk httpsink PORT         HTTP/1.1 server (a process per connection, keep-alive):
 *                              reads each request and its Content-Length body, discards
 *                              it, answers 200 with "ok"
 *   bulk udpsink PORT          reads datagrams and discards them; on SIGTERM/SIGINT
 *                              prints how many it received and how many lines they held
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (256 * 1024)
static char buf[BUF];

static void die(const char *what) { perror(what); exit(1); }

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int listen_on(int port, int type) {
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (type == SOCK_STREAM && listen(fd, 1024) < 0) die("listen");
    return fd;
}

static int connect_to(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", host); exit(1); }
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    return fd;
}

static int read_full(int fd, void *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += r;
    }
    return 0;
}

static int write_full(int fd, const void *p, size_t n) {
    size_t put = 0;
    while (put < n) {
        ssize_t w = write(fd, (const char *)p + put, n - put);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        put += w;
    }
    return 0;
}

static int drain(int fd, uint64_t n) {
    while (n > 0) {
        ssize_t r = read(fd, buf, n < BUF ? n : BUF);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        n -= r;
    }
    return 0;
}

static int pour(int fd, uint64_t n) {
    while (n > 0) {
        ssize_t w = write(fd, buf, n < BUF ? n : BUF);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        n -= w;
    }
    return 0;
}

static void serve_bulk(int c) {
    unsigned char h[9];
    if (read_full(c, h, 9) < 0) return;
    uint64_t n = 0;
    for (int i = 1; i < 9; i++) n = (n << 8) | h[i];
    if (h[0] == 'U') {
        if (drain(c, n) == 0) write_full(c, "K", 1);
    } else if (h[0] == 'D') {
        pour(c, n);
        shutdown(c, SHUT_WR);
        while (read(c, buf, BUF) > 0) {}
    }
}

/* One HTTP/1.1 connection: heads up to 64 KiB, Content-Length bodies, keep-alive. */
static void serve_http(int c) {
    static char head[65536];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(head, have, "\r\n\r\n", 4))) {
            if (have == sizeof head) return;
            ssize_t r = read(c, head + have, sizeof head - have);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) return;
            have += r;
        }
        size_t headlen = end + 4 - head;
        uint64_t length = 0;
        int close_after = 0;
        for (char *line = head; line < end; ) {
            char *eol = memmem(line, end + 2 - line, "\r\n", 2);
            if (!eol) break;
            if ((size_t)(eol - line) > 15 && strncasecmp(line, "content-length:", 15) == 0)
                length = strtoull(line + 15, NULL, 10);
            if ((size_t)(eol - line) > 11 && strncasecmp(line, "connection:", 11) == 0 && memmem(line, eol - line, "close", 5))
                close_after = 1;
            line = eol + 2;
        }
        size_t extra = have - headlen;
        if (extra >= length) {
            memmove(head, head + headlen + length, extra - length);
            have = extra - length;
        } else {
            if (drain(c, length - extra) < 0) return;
            have = 0;
        }
        static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok";
        if (write_full(c, answer, sizeof answer - 1) < 0 || close_after) return;
    }
}

static void serve(int port, void (*handler)(int)) {
    signal(SIGCHLD, SIG_IGN);
    int l = listen_on(port, SOCK_STREAM);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) { if (errno == EINTR) continue; die("accept"); }
        pid_t p = fork();
        if (p == 0) { close(l); handler(c); _exit(0); }
        close(c);
    }
}

static volatile sig_atomic_t stop;
static void on_stop(int s) { (void)s; stop = 1; }

static void udpsink(int port) {
    int fd = listen_on(port, SOCK_DGRAM);
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sigaction sa = { .sa_handler = on_stop };  /* no SA_RESTART: recv returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    unsigned long long datagrams = 0, lines = 0;
    while (!stop) {
        ssize_t r = recv(fd, buf, BUF, 0);
        if (r < 0) { if (errno == EINTR) continue; die("recv"); }
        datagrams++;
        lines++;  /* one syslog line per datagram */
    }
    printf("%llu %llu\n", datagrams, lines);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "serve") == 0) serve(atoi(argv[2]), serve_bulk);
    if (argc >= 3 && strcmp(argv[1], "httpsink") == 0) serve(atoi(argv[2]), serve_http);
    if (argc >= 3 && strcmp(argv[1], "udpsink") == 0) { udpsink(atoi(argv[2])); return 0; }
    if (argc >= 5 && (strcmp(argv[1], "up") == 0 || strcmp(argv[1], "down") == 0)) {
        uint64_t n = strtoull(argv[4], NULL, 10);
        memset(buf, 'x', BUF);
        double t0 = now();
        int fd = connect_to(argv[2], atoi(argv[3]));
        unsigned char h[9];
        h[0] = argv[1][0] == 'u' ? 'U' : 'D';
        for (int i = 0; i < 8; i++) h[8 - i] = (n >> (8 * i)) & 0xff;
        if (write_full(fd, h, 9) < 0) die("write header");
        if (h[0] == 'U') {
            if (pour(fd, n) < 0) die("send");
            char k;
            if (read_full(fd, &k, 1) < 0 || k != 'K') { fprintf(stderr, "no acknowledgement\n"); return 1; }
        } else {
            if (drain(fd, n) < 0) { fprintf(stderr, "stream ended early\n"); return 1; }
        }
        double t = now() - t0;
        close(fd);
        printf("%.6f\n", t);
        return 0;
    }
    fprintf(stderr, "usage: bulk serve PORT | httpsink PORT | udpsink PORT | up|down HOST PORT BYTES\n");
    return 2;
}
