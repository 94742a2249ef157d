/* wrap.c - run and supervise a child command (see wrap.h). */
#define _GNU_SOURCE
#include "journal/wrap.h"
#include "common/clock.h"
#include "journal/record.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP};
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static volatile sig_atomic_t child_pid;

/*
 * Forward a signal to the child.  SI_KERNEL marks a signal the terminal sent
 * to the whole foreground process group: the child got its own copy.
 */
static void
forward(int sig, siginfo_t *info, void *uctx)
{
	int saved = errno;

	(void)uctx;
	if (info != NULL && info->si_code == SI_KERNEL) {
		errno = saved;
		return;
	}
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

static void
install_forwarding(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, NULL);
}

/*
 * Start the child with the wrapper's original signal mask and the forwarded
 * signals at their defaults (an ignored SIGHUP, as under nohup, stays
 * ignored: that was the caller's choice).
 */
static int
spawn(char *const argv[], const sigset_t *mask, pid_t *pid)
{
	posix_spawnattr_t attr;
	sigset_t defaults;
	struct sigaction cur;
	size_t i;
	int rc;

	sigemptyset(&defaults);
	for (i = 0; i < NFORWARDED; i++)
		if (sigaction(forwarded[i], NULL, &cur) == 0 &&
		    cur.sa_handler != SIG_IGN)
			sigaddset(&defaults, forwarded[i]);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, mask);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(pid, argv[0], NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	return rc;
}

/*
 * Wait for the child to end, then stop forwarding before reaping it: until
 * it is reaped its pid cannot be reused, so a late signal never reaches an
 * unrelated process.
 */
static int
wait_child(pid_t pid, const sigset_t *block, int *wstatus, struct perr *e)
{
	siginfo_t info;
	pid_t got;
	int rc;

	do
		rc = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
	while (rc != 0 && errno == EINTR);
	sigprocmask(SIG_BLOCK, block, NULL);
	child_pid = 0;
	do
		got = waitpid(pid, wstatus, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return perr_sys(e, errno, "cannot wait for the command");
	return 0;
}

int
wrap_run(char *const argv[], struct wrap_result *res, struct perr *e)
{
	sigset_t block, orig;
	double t0;
	pid_t pid;
	size_t i;
	int rc, wstatus;

	memset(res, 0, sizeof(*res));
	/* Block the forwarded signals until child_pid is known. */
	sigemptyset(&block);
	for (i = 0; i < NFORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &orig);
	res->started = clock_now();
	t0 = clock_monotonic();
	rc = spawn(argv, &orig, &pid);
	if (rc != 0) {
		sigprocmask(SIG_SETMASK, &orig, NULL);
		res->spawn_errno = rc;
		res->status = rc == ENOENT ? 127 : 126;
		res->duration = clock_monotonic() - t0;
		return 0;
	}
	child_pid = pid;
	install_forwarding();
	sigprocmask(SIG_SETMASK, &orig, NULL);
	rc = wait_child(pid, &block, &wstatus, e);
	res->duration = clock_monotonic() - t0;
	sigprocmask(SIG_SETMASK, &orig, NULL);
	if (rc != 0) {
		res->status = 1;	/* the outcome is unknown */
		return rc;
	}
	if (WIFSIGNALED(wstatus)) {
		res->term_signal = WTERMSIG(wstatus);
		res->status = 128 + res->term_signal;
	} else {
		res->status = WEXITSTATUS(wstatus);
	}
	return 0;
}

int
wrap_recorded(char *const argv[], const struct run *start,
    wrap_send_fn send, wrap_warn_fn warn, void *ctx,
    struct wrap_result *res, struct perr *e)
{
	struct run finish;
	struct perr why;
	int rc;

	if (start != NULL && send(ctx, start, false, &why) != 0)
		warn(ctx, "start", why.msg);
	if ((rc = wrap_run(argv, res, e)) == 0 && res->spawn_errno != 0)
		rc = perr_set(e, PERR_IO, "cannot run %s: %s", argv[0],
		    strerror(res->spawn_errno));
	if (start != NULL) {
		record_finish_of(&finish, start, res->status, res->duration,
		    clock_now());
		if (send(ctx, &finish, true, &why) != 0)
			warn(ctx, "finish", why.msg);
	}
	return rc;
}
