// The nsenter constructor: runs in every strata process before the Go
// runtime starts (and so before it has threads), and does nothing unless
// the runtime started this process with _STRATA_NSENTER set. Entering a
// mount or user namespace needs a single-threaded process, and entering a
// pid namespace only moves the children of the caller: so this is done
// here, in C, as runc's nsexec does. See nsenter.go for the protocol.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#define MAX_NS 7

// The order in which namespaces are joined: the user namespace first, so
// that the others (owned by it) can be entered with its capabilities; the
// mount namespace late, as it changes the root the other paths would be
// resolved in (they are fds here, but keep runc's order).
static const struct {
	const char *name;
	int flag;
} ns_order[MAX_NS] = {
	{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	{"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
	{"cgroup", CLONE_NEWCGROUP},
};

struct request {
	int sync;          // the sync socket; -1 if none
	int ns_fd[MAX_NS]; // by ns_order; -1 if not joined
	int unshare_flags; // new namespaces to make after joining
};

// fail reports msg and errno to the runtime as a sync-protocol error
// message and exits. The messages are fixed strings and strerror's, which
// need no JSON escaping.
static void fail(const struct request *req, const char *msg) {
	char buf[256];
	int n = snprintf(buf, sizeof buf,
			 "{\"type\":\"error\",\"error\":{\"message\":\"nsenter: %s: %s\"}}\n",
			 msg, strerror(errno));
	if (req->sync >= 0 && n > 0)
		(void)!write(req->sync, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
	else
		fprintf(stderr, "nsenter: %s: %s\n", msg, strerror(errno));
	_exit(1);
}

// parse reads "key=number,key=number,..." where a key is "sync",
// "unshare" or a namespace name of ns_order.
static void parse(const char *spec, struct request *req) {
	char *copy = strdup(spec), *save = NULL;
	req->sync = -1;
	req->unshare_flags = 0;
	for (int i = 0; i < MAX_NS; i++)
		req->ns_fd[i] = -1;
	if (copy == NULL)
		fail(req, "parsing request");
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end = NULL;
		if (eq == NULL)
			goto bad;
		*eq = '\0';
		long v = strtol(eq + 1, &end, 10);
		if (*end != '\0' || v < 0 || v > 0x7fffffff)
			goto bad;
		if (strcmp(tok, "sync") == 0) {
			req->sync = (int)v;
			continue;
		}
		if (strcmp(tok, "unshare") == 0) {
			req->unshare_flags = (int)v;
			continue;
		}
		int i = 0;
		while (i < MAX_NS && strcmp(tok, ns_order[i].name) != 0)
			i++;
		if (i == MAX_NS)
			goto bad;
		req->ns_fd[i] = (int)v;
	}
	free(copy);
	return;
bad:
	errno = EINVAL;
	fail(req, "parsing request");
}

// send_pid tells the runtime the pid (in the runtime's pid namespace) of
// the process that goes on to become the init or the exec'd process.
static void send_pid(const struct request *req, pid_t pid) {
	char buf[64];
	int n = snprintf(buf, sizeof buf, "{\"type\":\"pid\",\"pid\":%d}\n", (int)pid);
	if (req->sync >= 0 && write(req->sync, buf, (size_t)n) != n)
		fail(req, "reporting pid");
}

static volatile pid_t child_pid;

static void forward_signal(int sig) {
	if (child_pid > 0)
		kill(child_pid, sig);
}

// stay_as_parent is the rest of the life of the process that joined a
// pid namespace: its child is the one inside it. It forwards the signals
// a caller sends to stop or interrupt, and exits as the child did, with
// 128+n for a child killed by signal n, as a shell reports it.
static void stay_as_parent(const struct request *req, pid_t child) {
	static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward_signal;
	sa.sa_flags = SA_RESTART;
	child_pid = child;
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	send_pid(req, child);
	// Nothing of the runtime's stays open here: the sync socket's EOF
	// tells the runtime the child exec'd.
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
		for (int fd = 3; fd < 1024; fd++) // before Linux 5.9
			close(fd);
	}
	int status;
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			_exit(1);
	}
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

__attribute__((constructor)) static void strata_nsenter(void) {
	const char *spec = getenv("_STRATA_NSENTER");
	if (spec == NULL)
		return;
	struct request req;
	parse(spec, &req);
	int forks = 0;
	// First the namespaces the current user namespace may enter (those of
	// a remapped container that the host owns, its network namespace):
	// inside the container's user namespace there is no capability over
	// them. Then the user namespace, then the rest, as runc does.
	for (int i = 1; i < MAX_NS; i++) {
		if (req.ns_fd[i] < 0 || setns(req.ns_fd[i], ns_order[i].flag) < 0)
			continue;
		close(req.ns_fd[i]);
		req.ns_fd[i] = -1;
		forks |= ns_order[i].flag == CLONE_NEWPID;
	}
	for (int i = 0; i < MAX_NS; i++) {
		if (req.ns_fd[i] < 0)
			continue;
		if (setns(req.ns_fd[i], ns_order[i].flag) < 0) {
			char msg[64];
			snprintf(msg, sizeof msg, "joining %s namespace", ns_order[i].name);
			fail(&req, msg);
		}
		close(req.ns_fd[i]);
		forks |= ns_order[i].flag == CLONE_NEWPID;
	}
	if (req.unshare_flags != 0 && unshare(req.unshare_flags) < 0)
		fail(&req, "creating namespaces");
	forks |= (req.unshare_flags & CLONE_NEWPID) != 0;
	if (!forks) {
		send_pid(&req, getpid());
		return;
	}
	pid_t parent = getpid();
	pid_t child = fork();
	if (child < 0)
		fail(&req, "forking into the pid namespace");
	if (child > 0)
		stay_as_parent(&req, child);
	// The child must not outlive the process the runtime waits for. Its
	// parent is outside its pid namespace, where getppid says 0; had the
	// parent died already, the child would have a parent in there.
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		_exit(1);
	pid_t ppid = getppid();
	if (ppid != 0 && ppid != parent)
		_exit(1);
}
