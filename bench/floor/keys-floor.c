/*
 * keys-floor: the least a server can do for an etcd v2 watch fan-out, to measure Platform and etcd against.
 *
 * One thread, one epoll loop, level-triggered, on 127.0.0.1:PORT. It answers:
 *   GET /v2/keys/...?wait=true  a chunked 200 head at once; the connection then waits for the next PUT
 *   PUT /v2/keys/KEY (value=V)  the etcd "set" event as the reply, then the same event, framed once as the end of
 *                               a chunked response, written with one send() to every waiting connection
 *   GET /v2/keys/ and others    a fixed 200 (the driver's readiness probe)
 * Nothing is stored and nothing is durable: the one index counts PUTs. Requests may be pipelined; a PUT's body
 * must be a form (value=...) with Content-Length.
 *
 * Build: cc -O2 -o keys-floor keys-floor.c     Run: keys-floor PORT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFFER 16384

struct conn {
    int fd;
    int len;
    int waiting;
    char buf[BUFFER];
};

static struct conn **conns;     /* by file descriptor */
static int *waiters;            /* descriptors of waiting connections (may hold closed ones; see fan_out) */
static int nwaiters, capacity;
static unsigned long etcd_index = 1;
static int epfd;

static void die(const char *what) { perror(what); exit(1); }

static void close_conn(struct conn *c)
{
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns[c->fd] = NULL;
    free(c);
}

/* Writes all of data; a socket that cannot take a reply this small at once is dropped (never seen on loopback). */
static int send_all(struct conn *c, const char *data, size_t len)
{
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n == (ssize_t)len) return 0;
    close_conn(c);
    return -1;
}

static int hex(int ch) { return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10; }

/* Form value of "value=" in body (percent- and plus-decoded), JSON-escaped into out. */
static void form_value(const char *body, int len, char *out, size_t size)
{
    size_t o = 0;
    const char *p = NULL;
    for (int i = 0; i + 6 <= len; i++)
        if ((i == 0 || body[i - 1] == '&') && memcmp(body + i, "value=", 6) == 0) { p = body + i + 6; break; }
    if (p == NULL) { out[0] = 0; return; }
    for (; p < body + len && *p != '&' && o + 3 < size; p++) {
        int ch = *p;
        if (ch == '+') ch = ' ';
        else if (ch == '%' && p + 2 < body + len) { ch = hex(p[1]) * 16 + hex(p[2]); p += 2; }
        if (ch == '"' || ch == '\\') out[o++] = '\\';
        out[o++] = (char)ch;
    }
    out[o] = 0;
}

/* The reply to a PUT, then one prebuilt last chunk to every waiting connection. */
static void fan_out(struct conn *put, const char *key, const char *value)
{
    static char event[BUFFER], reply[BUFFER + 512], chunk[BUFFER + 32];
    unsigned long index = ++etcd_index;
    int elen = snprintf(event, sizeof event,
                        "{\"action\":\"set\",\"node\":{\"key\":\"%s\",\"value\":\"%s\",\"modifiedIndex\":%lu,\"createdIndex\":%lu}}\n",
                        key, value, index, index);
    int rlen = snprintf(reply, sizeof reply,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Etcd-Index: %lu\r\nContent-Length: %d\r\n\r\n%s",
                        index, elen, event);
    int clen = snprintf(chunk, sizeof chunk, "%x\r\n%s\r\n0\r\n\r\n", elen, event);
    send_all(put, reply, rlen);
    int woken = nwaiters;
    nwaiters = 0;
    for (int i = 0; i < woken; i++) {
        struct conn *c = conns[waiters[i]];
        if (c == NULL || !c->waiting) continue;
        c->waiting = 0;
        send_all(c, chunk, clen);
    }
}

static void wait_for_put(struct conn *c)
{
    static char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nX-Etcd-Index: %lu\r\n\r\n",
                     etcd_index);
    if (send_all(c, head, n) != 0) return;
    if (nwaiters == capacity) {
        capacity = capacity ? capacity * 2 : 1024;
        waiters = realloc(waiters, sizeof *waiters * capacity);
        if (waiters == NULL) die("realloc");
    }
    c->waiting = 1;
    waiters[nwaiters++] = c->fd;
}

/* Answers every complete request in the buffer; -1 when the connection was closed. */
static int serve(struct conn *c)
{
    int fd = c->fd;
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Etcd-Index: 1\r\nContent-Length: 37\r\n\r\n"
                             "{\"action\":\"get\",\"node\":{\"dir\":true}}\n";
    while (c->len > 0) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end == NULL) return c->len == BUFFER ? (close_conn(c), -1) : 0;
        int head = (int)(end - c->buf) + 4, body = 0;
        char *cl = memmem(c->buf, head, "\r\nContent-Length:", 17);
        if (cl != NULL) body = atoi(cl + 17);
        if (head + body > BUFFER) { close_conn(c); return -1; }
        if (c->len < head + body) return 0;

        char *target = memchr(c->buf, ' ', head);
        char *target_end = target ? memchr(target + 1, ' ', head - (target + 1 - c->buf)) : NULL;
        if (target_end == NULL) { close_conn(c); return -1; }
        *target_end = 0;
        target++;
        int rc = 0;
        if (memcmp(c->buf, "PUT ", 4) == 0 && strncmp(target, "/v2/keys/", 9) == 0) {
            char value[4096];
            form_value(c->buf + head, body, value, sizeof value);
            char *query = strchr(target, '?');
            if (query) *query = 0;
            fan_out(c, target + 8, value);
            rc = conns[fd] == c ? 0 : -1;
        } else if (memcmp(c->buf, "GET ", 4) == 0 && strstr(target, "wait=true") != NULL) {
            wait_for_put(c);
            rc = conns[fd] == c ? 0 : -1;
        } else {
            rc = send_all(c, ok, sizeof ok - 1);
        }
        if (rc != 0) return -1;
        c->len -= head + body;
        memmove(c->buf, c->buf + head + body, c->len);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 || atoi(argv[1]) <= 0) { fprintf(stderr, "usage: keys-floor PORT\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) != 0) die("getrlimit");
    size_t slots = files.rlim_cur == RLIM_INFINITY || files.rlim_cur > 1048576 ? 1048576 : files.rlim_cur;
    conns = calloc(slots, sizeof *conns);
    if (conns == NULL) die("calloc");

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
    if (listen(listener, 4096) != 0) die("listen");
    epfd = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = listener };
    epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);

    struct epoll_event events[1024];
    for (;;) {
        int n = epoll_wait(epfd, events, 1024, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if ((size_t)client >= slots) { close(client); continue; }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *c = calloc(1, sizeof *c);
                    if (c == NULL) die("calloc");
                    c->fd = client;
                    conns[client] = c;
                    struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = client };
                    epoll_ctl(epfd, EPOLL_CTL_ADD, client, &cev);
                }
                continue;
            }
            struct conn *c = conns[fd];
            if (c == NULL) continue;
            ssize_t got = recv(fd, c->buf + c->len, BUFFER - c->len, 0);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) { close_conn(c); continue; }
            if (got > 0) {
                c->len += (int)got;
                serve(c);
            }
        }
    }
}
