/* listen.c - listen addresses and inherited sockets (see listen.h). */
#define _GNU_SOURCE
#include "serve/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FORMS "use :PORT, HOST:PORT, [IPV6]:PORT or HOST (PORT a number " \
	"or a service name)"

static int
copy_part(char *out, size_t size, const char *from, size_t len)
{
	if (len >= size)
		return -1;
	memcpy(out, from, len);
	out[len] = '\0';
	return 0;
}

int
listen_split(const char *spec, char *host, size_t hsize, char *port,
    size_t psize, struct perr *e)
{
	char q[PERR_QUOTE_MAX];
	const char *colon, *close;
	int bad = 0;

	if (spec[0] == '[') {
		close = strchr(spec, ']');
		bad = close == NULL || close == spec + 1 ||
		    (close[1] != ':' && close[1] != '\0') ||
		    copy_part(host, hsize, spec + 1, (size_t)(close - spec - 1));
		colon = close != NULL && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = strrchr(spec, ':');
		if (colon != NULL && strchr(spec, ':') != colon)
			bad = 1;	/* a bare IPv6 address needs brackets */
		else
			bad = copy_part(host, hsize, spec, colon != NULL ?
			    (size_t)(colon - spec) : strlen(spec));
	}
	if (!bad)
		bad = colon != NULL ? colon[1] == '\0' ||
		    copy_part(port, psize, colon + 1, strlen(colon + 1)) :
		    copy_part(port, psize, LISTEN_DEFAULT_PORT,
		    strlen(LISTEN_DEFAULT_PORT));
	if (bad || (host[0] == '\0' && colon == NULL))
		return perr_set(e, PERR_INVALID, "listen address %s is not "
		    "valid: " FORMS, perr_quote(spec, q));
	return 0;
}

static int
open_one(const struct addrinfo *ai, const char *spec, int *out,
    struct perr *e)
{
	char name[128];
	int fd, one = 1, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd < 0)
		return perr_sys(e, errno, "cannot listen on %s", spec);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		rc = errno;
		close(fd);
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, name,
		    sizeof(name), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(name, sizeof(name), "?");
		return perr_sys(e, rc, "cannot listen on %s (%s)", spec, name);
	}
	*out = fd;
	return 0;
}

int
listen_open(const char *spec, int *fds, size_t *n, size_t max,
    struct perr *e)
{
	struct addrinfo hints, *res, *ai;
	char host[256], port[64], q[PERR_QUOTE_MAX];
	size_t opened = 0;
	int rc, gai;

	if ((rc = listen_split(spec, host, sizeof(host), port, sizeof(port),
	    e)) != 0)
		return rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	gai = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (gai != 0)
		return perr_set(e, PERR_INVALID, "listen address %s does not "
		    "resolve: %s (" FORMS ")", perr_quote(spec, q),
		    gai_strerror(gai));
	for (ai = res, rc = 0; ai != NULL && rc == 0; ai = ai->ai_next) {
		if (*n == max) {
			rc = perr_set(e, PERR_LIMIT, "more than %zu listening "
			    "sockets", max);
			break;
		}
		/* ":PORT" on a host without IPv6 still listens on IPv4. */
		rc = open_one(ai, spec, &fds[*n], e);
		if (rc != 0 && host[0] == '\0' && e != NULL &&
		    e->sys_errno == EAFNOSUPPORT) {
			rc = 0;
			continue;
		}
		if (rc == 0) {
			(*n)++;
			opened++;
		}
	}
	freeaddrinfo(res);
	if (rc == 0 && opened == 0)
		rc = perr_set(e, PERR_IO, "cannot listen on %s: no usable "
		    "address", spec);
	return rc;
}

static int
is_listening_stream(int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_STREAM)
		return 0;
	len = sizeof(listening);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	    &len) == 0 && listening;
}

int
listen_inherited(int *fds, size_t *n, size_t max, struct perr *e)
{
	const char *pid = getenv("LISTEN_PID"), *count = getenv("LISTEN_FDS");
	char *end;
	long p, c, i;

	if (pid == NULL || count == NULL)
		return 0;
	p = strtol(pid, &end, 10);
	if (*end != '\0' || p != (long)getpid())
		return 0;
	c = strtol(count, &end, 10);
	if (*end != '\0' || c < 0 || c > 1024)
		return perr_set(e, PERR_INVALID, "LISTEN_FDS is not a count of "
		    "sockets");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (i = 0; i < c; i++) {
		int fd = 3 + (int)i;

		if (*n == max)
			return perr_set(e, PERR_LIMIT, "more than %zu listening "
			    "sockets", max);
		if (!is_listening_stream(fd))
			return perr_set(e, PERR_INVALID, "descriptor %d from "
			    "systemd is not a listening stream socket: use "
			    "ListenStream= in the socket unit", fd);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fds[(*n)++] = fd;
	}
	return 0;
}

void
listen_name(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN], port[16];

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port,
	    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, size, "?");
		return;
	}
	snprintf(out, size, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, port);
}
