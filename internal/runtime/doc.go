// Package runtime is strata's OCI runtime: it runs a container from an OCI
// bundle (config.json per the runtime-spec, plus a rootfs) with the
// lifecycle of the OCI runtime command line (runc's): Create, Start, State,
// Kill, Delete; plus Wait, for the process that created the container, and
// Stats, read from the container's cgroup (package cgroups, v1 or v2).
// Update rewrites the limits of a running container's cgroup (`runc
// update`), Processes lists its pids, OOMKilled reads the cgroup's OOM-kill
// counter (asked by the monitor before Delete removes the cgroup). Pause and
// Resume freeze and thaw that cgroup (runc's pause and resume).
//
// A spec annotated org.strata.init=reaper (`run --init`) keeps the init as
// PID 1 instead of exec'ing the workload (reaper.go): it forks the workload,
// forwards every signal to it, reaps every zombie and exits with its status.
//
// # Processes
//
// Create starts the container's init by re-executing this binary from a
// form no container can write (see sealedExe: opened through a private,
// detached, read-only overlay, or a sealed in-memory copy where that cannot
// be made; or CreateOpts.Exe, one a caller made ahead with SealedExe)
// with the marker variable _STRATA_INIT, in the new namespaces the spec
// asks for. The binary's main
// must call Init before anything else, so that the copy becomes the init:
//
//	func main() {
//		runtime.Init() // returns at once unless this process is a container init
//		...
//	}
//
// Test binaries that create containers do the same from TestMain.
//
// The init receives the spec over a socketpair (sync.go), once the runtime
// has put it in its cgroup, then builds the container (init.go: namespaces
// it joins, mounts, /dev and pivot_root in the rootfs package, hostname,
// sysctls, masked and read-only paths, rlimits, user, capabilities,
// no_new_privs, the seccomp filter of the seccomp package: last before
// execve with no_new_privs, before the capabilities drop without, as the
// kernel requires), finds the workload's executable and reports "created".
// Create returns then, with the init blocked on the start socket; Start
// connects to it, and the init closes every fd but stdio and the
// preserved ones and execs the workload, which keeps its pid (1 in its pid
// namespace). Errors in the init travel back with their class, so Create
// fails with the init's message (ErrExecNotFound for a missing executable).
//
// New user namespaces (with the spec's uid/gid mappings) work: devices are
// then bind-mounted from the host, as the kernel refuses mknod there. A
// spec with device cgroup rules gets runc's defaults after its own (mknod
// of any node, the standard character devices), so linux.devices can be
// created whatever the rules; capabilities the runtime itself lacks are
// left out of the sets rather than failing the create.
//
// Terminals (process.terminal) follow OCI's console socket: the init opens
// a pty in the container's devpts, makes the slave its stdio and
// controlling terminal, and sends the master over CreateOpts.ConsoleSocket
// (console.go; RecvConsole is the receiving side).
//
// # Hooks
//
// The runtime-spec's hooks run as hooks.go says: prestart and
// createRuntime in the runtime once the init built its mounts (the init
// asks with a "hooks" message and waits), createContainer in the init
// before pivot_root, startContainer in the init before execve, poststart
// at the end of Start, poststop at the end of Delete; each with the state
// on stdin, its own args, env and timeout. Create and Start fail with a
// failing hook of theirs; poststart and poststop failures are warnings.
//
// Namespaces with a path are joined. Net, ipc, uts and cgroup ones the
// init enters itself; when a mount, pid or user one is among them, the
// nsenter constructor (package nsenter, nsjoin.go) joins them all before
// the Go runtime starts and makes the new namespaces after them, forking
// into a pid namespace: the process the runtime started then stays outside
// as a waiter, and the init is its child (the pid the record holds). A new
// user namespace together with such a join is refused. A new user
// namespace with joined net, ipc, uts or cgroup namespaces (a remapped
// container on a network the engine made) is cloned from a parent thread
// that entered them first (userns_join.go): from inside the new user
// namespace the init would have no capability over them. For the same
// reason the constructor enters every namespace it can before the user
// namespace, and the rest after it, as runc's nsexec does.
//
// # Exec
//
// Exec runs one more process in a running container (exec.go, and
// exec_init.go for the process's side and its protocol): a helper started
// from the sealed copy, with the marker _STRATA_EXEC, joins the init's
// namespaces through the constructor and forks into its pid namespace;
// the runtime puts both in the container's cgroup and sends the process
// spec; the process takes its user, capabilities, rlimits, no_new_privs,
// the container's seccomp filter and, on request, a terminal made in the
// container's devpts whose master comes back to the caller, then execs.
// The waiter outside reports the exit status (128+n after signal n).
//
// Not in this cut: seccomp user notification (refused), AppArmor and SELinux
// labels (ignored), the v2 device controller (ignored, see the cgroups
// package), time namespaces.
//
// # State directory
//
// Each container owns a directory under the state directory given to New:
//
//	<state>/<id>/state.json   the record (OCI state + created time, init start time,
//	                          cgroup path), replaced atomically (temp + rename;
//	                          no fsync: run state means nothing after a reboot)
//	<state>/<id>/lock         the container's lock (lockfile), held by every
//	                          operation that changes the container
//	<state>/<id>/start.sock   the init's start socket while the container is "created"
//	<state>/<id>/hooks.json   the poststart and poststop hooks, kept by Create
//	<state>/.staging-<id>-<rand>  a claim before its lock is held; renamed to
//	                          .tmp-<id>-<rand> once locked (never swept while young)
//	<state>/.tmp-<id>-<rand>  a container being claimed; renamed to <id> with
//	                          RENAME_NOREPLACE, so an id is taken exactly once
//	<state>/.tmp-deleted-...  a container being removed
//
// Invariants: a directory named <id> always holds a state.json; temporary
// directories belong to the process holding their lock and are swept by
// the next Create once that lock is free; a record whose status is
// "creating" and whose lock is free was left by a dead creator and reads as
// stopped, so Delete cleans it up. The status "stopped" is never stored:
// it is derived from the init's pid and start time (a reused pid does not
// count), so a container whose process died is stopped without anyone
// writing it down. Neither is "paused": a running container reads paused
// while its cgroup is frozen (StatePaused).
package runtime
