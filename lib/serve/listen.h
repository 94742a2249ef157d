/*
 * listen.h - the addresses promrun-serve listens on, in AlloyCI's forms,
 * and the sockets systemd hands over.
 *
 * Forms: ":PORT" (every address, IPv4 and IPv6), "HOST:PORT",
 * "[IPV6]:PORT", and "HOST" alone (the default port).  HOST is an address
 * or a name; PORT a number or a service name from /etc/services ("http").
 */
#ifndef PROMRUN_LISTEN_H
#define PROMRUN_LISTEN_H

#include <stddef.h>

#include "common/err.h"

#define LISTEN_DEFAULT_PORT "9089"
#define LISTEN_DEFAULT "127.0.0.1:" LISTEN_DEFAULT_PORT
#define LISTEN_MAX_SOCKETS 32
#define LISTEN_BACKLOG 1024

/*
 * listen_split: the host (empty for every address) and the port of spec
 * into host and port (hsize, psize bytes).  Returns 0, or PERR_INVALID
 * naming spec and the accepted forms.
 */
int listen_split(const char *spec, char *host, size_t hsize, char *port,
    size_t psize, struct perr *e);

/*
 * listen_open: resolve spec and open a listening TCP socket (close-on-exec,
 * SO_REUSEADDR, IPv6 sockets IPv6-only) for each address it names, adding
 * their descriptors to fds[*n..max).  Returns 0; PERR_INVALID for a spec or
 * name that does not resolve; PERR_IO naming the address and the reason
 * (in use, not available, permission); PERR_LIMIT past max sockets.
 */
int listen_open(const char *spec, int *fds, size_t *n, size_t max,
    struct perr *e);

/*
 * listen_inherited: the sockets systemd passed (socket activation:
 * $LISTEN_PID is this process, $LISTEN_FDS sockets from descriptor 3 on),
 * made close-on-exec and added to fds[*n..max); the variables are removed
 * so children do not see them.  Returns 0 (adding none without them);
 * PERR_INVALID when they are malformed or a descriptor is not a listening
 * stream socket; PERR_LIMIT past max.
 */
int listen_inherited(int *fds, size_t *n, size_t max, struct perr *e);

/*
 * listen_name: "ADDRESS:PORT" of the socket fd ("[::1]:9089") into out
 * (size bytes), for the log; "?" when it cannot be told.
 */
void listen_name(int fd, char *out, size_t size);

#endif
