/*
 * fuzz-serve - libFuzzer target: raw HTTP requests (request line, headers,
 * body, as they come off the wire) through promrun-serve's request handler.
 *
 * One receiver runs in a thread of the fuzzing process, on a port of
 * 127.0.0.1, with an organization, tokens and PRPC's key (the tokens are
 * in the seeds, so the mutations reach past authentication).  Each input
 * is written to a fresh connection and the answer read.  Properties: the
 * server answers with an HTTP status line (or closes, or keeps a request
 * left half-sent until it times out), never a 5xx of its
 * own (libmicrohttpd's answers to protocol errors aside); every
 * JSON answer of ours is one line holding "error" (4xx) or "result" (2xx
 * from /api/v1/runs); and the server still answers /health/live after.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "serve/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static struct serve_config sc;
static struct serve *server;
static int port;

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz-serve: property broken: %s\n", what);
		abort();
	}
}

/* The port comes from the log line "listening on 127.0.0.1:PORT". */
static void
log_line(void *ctx, const char *line)
{
	const char *at = strstr(line, "listening on 127.0.0.1:");

	(void)ctx;
	if (at != NULL)
		__atomic_store_n(&port, atoi(at + strlen("listening on "
		    "127.0.0.1:")), __ATOMIC_SEQ_CST);
}

static void *
run(void *arg)
{
	struct perr e;

	(void)arg;
	if (serve_run(server, &e) != 0)
		abort();
	return NULL;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) < 0 ||
	    fclose(fp) != 0)
		abort();
}

static void
start(void)
{
	char dir[] = "/tmp/fuzz-serve.XXXXXX", ini[4096], path[512];
	struct perr e;
	pthread_t t;

	if (mkdtemp(dir) == NULL)
		abort();
	write_file(dir, "acme.write", "fuzz-acme-write\n");
	write_file(dir, "acme.read", "fuzz-acme-read\n");
	write_file(dir, "psk", "fuzz-psk\n");
	snprintf(ini, sizeof(ini), "[journal]\nfsync = never\n"
	    "labels = org, repo\n[render]\nmax_series = 100000000\n"
	    "[serve]\nlisten = 127.0.0.1:0\ndata_dir = %s/data\n"
	    "prpc_psk_file = %s/psk\nmax_connections_per_ip = 1000\n"
	    "connection_timeout = 1s\n"
	    "[org acme]\nwrite_token_file = %s/acme.write\n"
	    "read_token_file = %s/acme.read\n", dir, dir, dir, dir);
	write_file(dir, "promrun.ini", ini);
	snprintf(path, sizeof(path), "%s/promrun.ini", dir);
	if (config_load(&cfg, path, &e) != 0)
		abort();
	sc.serve = &cfg.serve;
	sc.journal = &cfg.journal;
	sc.render = &cfg.render;
	sc.log = log_line;
	if (serve_new(&server, &sc, &e) != 0 ||
	    pthread_create(&t, NULL, run, NULL) != 0)
		abort();
	while (__atomic_load_n(&port, __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
}

/*
 * The length of the first answer in out[0..got) when it is whole (headers
 * and Content-Length bytes, none for HEAD), else 0.
 */
static size_t
first_answer(const char *out, size_t got, int head)
{
	const char *end = memmem(out, got, "\r\n\r\n", 4), *cl;
	size_t want;

	if (end == NULL)
		return 0;
	cl = memmem(out, (size_t)(end - out), "Content-Length: ", 16);
	want = cl != NULL && !head ? strtoul(cl + 16, NULL, 10) : 0;
	want += (size_t)(end + 4 - out);
	return got >= want ? want : 0;
}

/*
 * Send request, read the answer into out (size bytes) until the server
 * closes or the first answer is whole (a kept-alive connection would wait
 * for the next request); its length.
 */
static size_t
exchange(const void *request, size_t len, char *out, size_t size)
{
	struct sockaddr_in sa;
	struct timeval tv = {10, 0};
	size_t got = 0, first;
	ssize_t n;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	check(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "the server accepts connections");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (len > 0 && send(fd, request, len, MSG_NOSIGNAL) < 0)
		len = 0;	/* closed early: what came back still counts */
	shutdown(fd, SHUT_WR);
	while (got + 1 < size &&
	    (n = recv(fd, out + got, size - 1 - got, 0)) > 0) {
		got += (size_t)n;
		/* Pipelined requests: only the first answer is checked. */
		if ((first = first_answer(out, got, len >= 5 &&
		    memcmp(request, "HEAD ", 5) == 0)) > 0) {
			got = first;
			break;
		}
	}
	/*
	 * A request left half-sent may stay open until libmicrohttpd times
	 * it out; what must hold is that the server goes on answering others
	 * (the /health/live check after every input).
	 */
	(void)n;
	out[got] = '\0';
	close(fd);
	return got;
}

static void
check_json_body(const char *answer, int status, int runs)
{
	const char *body = strstr(answer, "\r\n\r\n");
	json_t *j;

	if (body == NULL || strstr(answer, "Content-Type: application/json") ==
	    NULL)
		return;
	body += 4;
	check(strchr(body, '\n') == body + strlen(body) - 1,
	    "a JSON answer is one line");
	j = json_loads(body, 0, NULL);
	check(j != NULL, "a JSON answer parses");
	if (status >= 400)
		check(json_is_string(json_object_get(j, "error")),
		    "an error answer says why");
	else if (runs)
		check(json_is_string(json_object_get(j, "result")),
		    "a runs answer says what was recorded");
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char live[] = "GET /health/live HTTP/1.1\r\nHost: f\r\n"
	    "Connection: close\r\n\r\n";
	static char answer[1 << 20];
	int status;

	if (server == NULL)
		start();
	if (exchange(data, size, answer, sizeof(answer)) > 0) {
		check(sscanf(answer, "HTTP/1.%*1[01] %3d ", &status) == 1,
		    "the answer starts with a status line");
		/* libmicrohttpd answers some protocol errors itself (505 for
		 * an HTTP version it does not speak): never with our types. */
		check(status >= 100 && (status < 500 ||
		    (strstr(answer, "Content-Type: application/json") == NULL &&
		    strstr(answer, "Content-Type: text/plain") == NULL)),
		    "no 5xx answer of ours");
		/* HEAD answers carry the headers alone. */
		if (size < 5 || memcmp(data, "HEAD ", 5) != 0)
			check_json_body(answer, status, size > 17 &&
			    memcmp(data, "POST /api/v1/runs", 17) == 0);
	}
	exchange(live, sizeof(live) - 1, answer, sizeof(answer));
	/* Whatever came before, the server answers a good request at once. */
	check(strncmp(answer, "HTTP/1.1 200 ", 13) == 0,
	    "the server still answers /health/live");
	return 0;
}
