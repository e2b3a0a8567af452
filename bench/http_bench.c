/* The HTTP side of `make bench`: a load client with plain sockets and HTTP/1.1 keep-alive, the reference it is
 * compared against (a static reply from libmicrohttpd run as oos-api runs it), and the cold start of a socket
 * activated server.
 *
 *   http-bench load ADDR:PORT CLIENTS REQUESTS METHOD PATH [BODY]
 *       CLIENTS threads, each with one keep-alive connection, send REQUESTS requests in all (BODY as a JSON
 *       body; the environment's OOS_BENCH_TOKEN as a bearer token). Every reply must be 2xx.
 *       Prints "load REQUESTS SECONDS REQ_PER_S P50_MS P99_MS BODY_BYTES" (BODY_BYTES: of the last reply).
 *   http-bench serve BYTES
 *       libmicrohttpd with oos-api's flags (one internal polling thread) on 127.0.0.1, port chosen by the
 *       kernel, answering every request with BYTES of JSON and oos-api's headers. Prints
 *       "listening on 127.0.0.1:PORT", serves until SIGTERM.
 *   http-bench first-byte RUNS PATH -- PROGRAM ARGS...
 *       RUNS times: `systemd-socket-activate -l 127.0.0.1:PORT PROGRAM ARGS...` on a free port, then the time
 *       from the first connection to the first byte of the reply to GET PATH (the server is started by that
 *       connection), then SIGTERM. Prints "first-byte MEDIAN_MS P90_MS MAX_MS". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char* what) {
  fprintf(stderr, "http-bench: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static struct sockaddr_in parse_address(const char* text) {
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  char host[64];
  const char* colon = strrchr(text, ':');
  if (!colon || (size_t)(colon - text) >= sizeof host) die("address must be IPV4:PORT");
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = '\0';
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1) die("address must be IPV4:PORT");
  address.sin_port = htons((unsigned short)atoi(colon + 1));
  return address;
}

static int connect_to(const struct sockaddr_in* address) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (const struct sockaddr*)address, sizeof *address) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("send");
    data += n;
    size -= (size_t)n;
  }
}

/* One reply read whole (headers, then Content-Length bytes of body). Returns the status; sets *body_bytes and
 * *closes (the server said Connection: close). Bytes after the reply are not expected: one request at a time. */
static int read_reply(int fd, char* buffer, size_t capacity, long* body_bytes, int* closes) {
  size_t have = 0;
  char* end = NULL;
  while (!end) {
    if (have + 1 >= capacity) die("reply headers too long");
    ssize_t n = recv(fd, buffer + have, capacity - 1 - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("recv (connection closed before a reply)");
    have += (size_t)n;
    buffer[have] = '\0';
    end = strstr(buffer, "\r\n\r\n");
  }
  int status = atoi(buffer + 9);
  long length = 0;
  *closes = 0;
  for (char* line = strstr(buffer, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
    if (strncasecmp(line, "Content-Length:", 15) == 0) length = atol(line + 15);
    if (strncasecmp(line, "Connection:", 11) == 0) {
      char* close_word = strcasestr(line, "close");
      if (close_word && close_word < strstr(line, "\r\n")) *closes = 1;
    }
  }
  size_t header = (size_t)(end + 4 - buffer);
  long left = length - (long)(have - header);
  while (left > 0) {
    ssize_t n = recv(fd, buffer, capacity < (size_t)left ? capacity : (size_t)left, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("recv (body cut short)");
    left -= n;
  }
  *body_bytes = length;
  return status;
}

struct load {
  struct sockaddr_in address;
  const char* request;
  size_t request_size;
  long total;
  atomic_long next;
  atomic_long body_bytes;
};

struct client {
  struct load* load;
  double* latencies;
  long count;
};

static void* run_client(void* arg) {
  struct client* c = arg;
  struct load* load = c->load;
  static __thread char buffer[1 << 16];
  int fd = connect_to(&load->address);
  if (fd < 0) die("connect");
  while (atomic_fetch_add(&load->next, 1) < load->total) {
    double start = now();
    send_all(fd, load->request, load->request_size);
    long body = 0;
    int closes = 0;
    int status = read_reply(fd, buffer, sizeof buffer, &body, &closes);
    c->latencies[c->count++] = (now() - start) * 1000.0;
    if (status < 200 || status > 299) {
      fprintf(stderr, "http-bench: status %d: %.300s\n", status, buffer);
      exit(1);
    }
    atomic_store(&load->body_bytes, body);
    if (closes) {
      close(fd);
      fd = connect_to(&load->address);
      if (fd < 0) die("connect");
    }
  }
  close(fd);
  return NULL;
}

static int compare(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static int load_main(int argc, char** argv) {
  if (argc < 7 || argc > 8) return 64;
  struct load load;
  load.address = parse_address(argv[2]);
  int clients = atoi(argv[3]);
  load.total = atol(argv[4]);
  if (clients < 1 || load.total < 1) return 64;
  const char* method = argv[5];
  const char* path = argv[6];
  const char* body = argc == 8 ? argv[7] : NULL;
  const char* token = getenv("OOS_BENCH_TOKEN");
  static char request[8192];
  int n = snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n", method, path,
                   argv[2]);
  if (token && *token) n += snprintf(request + n, sizeof request - (size_t)n, "Authorization: Bearer %s\r\n", token);
  if (body)
    n += snprintf(request + n, sizeof request - (size_t)n,
                  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
  else
    n += snprintf(request + n, sizeof request - (size_t)n, "\r\n");
  if (n >= (int)sizeof request) die("request too long");
  load.request = request;
  load.request_size = (size_t)n;
  atomic_init(&load.next, 0);
  atomic_init(&load.body_bytes, 0);

  struct client* c = calloc((size_t)clients, sizeof *c);
  pthread_t* threads = calloc((size_t)clients, sizeof *threads);
  double* merged = calloc((size_t)load.total, sizeof *merged);
  if (!c || !threads || !merged) die("calloc");
  for (int i = 0; i < clients; ++i) {
    c[i].load = &load;
    c[i].latencies = calloc((size_t)load.total, sizeof(double));
    if (!c[i].latencies) die("calloc");
  }
  double start = now();
  for (int i = 0; i < clients; ++i)
    if (pthread_create(&threads[i], NULL, run_client, &c[i]) != 0) die("pthread_create");
  for (int i = 0; i < clients; ++i) pthread_join(threads[i], NULL);
  double elapsed = now() - start;
  long count = 0;
  for (int i = 0; i < clients; ++i)
    for (long j = 0; j < c[i].count; ++j) merged[count++] = c[i].latencies[j];
  qsort(merged, (size_t)count, sizeof *merged, compare);
  printf("load %ld %.3f %.1f %.3f %.3f %ld\n", count, elapsed, (double)count / elapsed, merged[count / 2],
         merged[(long)((double)count * 0.99) < count ? (long)((double)count * 0.99) : count - 1],
         atomic_load(&load.body_bytes));
  return 0;
}

struct reply {
  char* body;
  size_t size;
};

static enum MHD_Result answer(void* cls, struct MHD_Connection* connection, const char* url, const char* method,
                              const char* version, const char* upload, size_t* upload_size, void** state) {
  (void)url, (void)method, (void)version, (void)upload;
  static int marker;
  if (*state == NULL) { /* headers only: the body (if any) comes in the next calls */
    *state = &marker;
    return MHD_YES;
  }
  if (*upload_size != 0) {
    *upload_size = 0;
    return MHD_YES;
  }
  const struct reply* reply = cls;
  struct MHD_Response* response = MHD_create_response_from_buffer(reply->size, reply->body, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(response, "Content-Type", "application/json");
  MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(response, "Cache-Control", "no-store");
  MHD_add_response_header(response, "Content-Security-Policy", "default-src 'self'");
  enum MHD_Result result = MHD_queue_response(connection, 200, response);
  MHD_destroy_response(response);
  return result;
}

static int serve_main(int argc, char** argv) {
  if (argc != 3) return 64;
  struct reply reply;
  reply.size = (size_t)atol(argv[2]);
  reply.body = malloc(reply.size + 1);
  if (!reply.body) die("malloc");
  memset(reply.body, ' ', reply.size);
  if (reply.size >= 2) reply.body[0] = '{', reply.body[reply.size - 2] = '}', reply.body[reply.size - 1] = '\n';

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in address = parse_address("127.0.0.1:0");
  socklen_t length = sizeof address;
  if (fd < 0 || bind(fd, (struct sockaddr*)&address, sizeof address) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr*)&address, &length) != 0)
    die("listen");
  struct MHD_Daemon* daemon =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                       &answer, &reply, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 64u,
                       MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
  if (!daemon) die("MHD_start_daemon");
  printf("listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
  fflush(stdout);
  int signal = 0;
  sigwait(&stop, &signal);
  MHD_stop_daemon(daemon);
  return 0;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in address = parse_address("127.0.0.1:0");
  socklen_t length = sizeof address;
  if (fd < 0 || bind(fd, (struct sockaddr*)&address, sizeof address) != 0 ||
      getsockname(fd, (struct sockaddr*)&address, &length) != 0)
    die("free port");
  close(fd);
  return ntohs(address.sin_port);
}

static int first_byte_main(int argc, char** argv) {
  if (argc < 6 || strcmp(argv[4], "--") != 0) return 64;
  int runs = atoi(argv[2]);
  const char* path = argv[3];
  if (runs < 1) return 64;
  double* ms = calloc((size_t)runs, sizeof *ms);
  char** args = calloc((size_t)argc + 4, sizeof *args);
  if (!ms || !args) die("calloc");
  char listen[32];
  args[0] = "systemd-socket-activate";
  args[1] = "-l";
  args[2] = listen;
  for (int i = 5; i < argc; ++i) args[i - 2] = argv[i];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  for (int r = 0; r < runs; ++r) {
    snprintf(listen, sizeof listen, "127.0.0.1:%d", free_port());
    pid_t pid = 0;
    int spawned = posix_spawnp(&pid, args[0], &actions, NULL, args, environ);
    if (spawned != 0) { /* posix_spawnp returns the error instead of setting errno */
      errno = spawned;
      die("systemd-socket-activate (package systemd) cannot be started");
    }
    struct sockaddr_in address = parse_address(listen);
    int fd = -1;
    double deadline = now() + 5.0;
    double start = 0;
    while (fd < 0) { /* until systemd-socket-activate listens; the connection that succeeds starts the server */
      if (now() > deadline) die("systemd-socket-activate never listened");
      start = now();
      fd = connect_to(&address);
      if (fd < 0) usleep(200);
    }
    char request[512];
    int n = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, listen);
    send_all(fd, request, (size_t)n);
    char byte;
    ssize_t got;
    while ((got = recv(fd, &byte, 1, 0)) < 0 && errno == EINTR) {
    }
    if (got != 1) die("no reply from the started server");
    ms[r] = (now() - start) * 1000.0;
    char rest[4096];
    while (recv(fd, rest, sizeof rest, 0) > 0) {
    }
    close(fd);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  posix_spawn_file_actions_destroy(&actions);
  qsort(ms, (size_t)runs, sizeof *ms, compare);
  printf("first-byte %.2f %.2f %.2f\n", ms[runs / 2], ms[runs * 9 / 10], ms[runs - 1]);
  return 0;
}

int main(int argc, char** argv) {
  int rc = 64;
  if (argc >= 2 && strcmp(argv[1], "load") == 0) rc = load_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "serve") == 0) rc = serve_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "first-byte") == 0) rc = first_byte_main(argc, argv);
  if (rc == 64)
    fprintf(stderr,
            "usage: http-bench load ADDR:PORT CLIENTS REQUESTS METHOD PATH [BODY]\n"
            "       http-bench serve BYTES\n"
            "       http-bench first-byte RUNS PATH -- PROGRAM ARGS...\n");
  return rc;
}
