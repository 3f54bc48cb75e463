package runtime

import (
	"fmt"
	"os/exec"
	goruntime "runtime"

	"golang.org/x/sys/unix"
)

// joinedEnv tells the init that its parent already joined the namespaces
// of the spec's paths for it.
const joinedEnv = "_STRATA_JOINED"

// startInJoined starts the init. An init cloned into a new user namespace
// cannot enter namespaces its parent's user namespace owns (a network
// namespace the engine made): it has no capability there. So the parent
// enters them on a thread of its own and clones the init from it, which
// inherits them, as runc's nsexec joins before it unshares the user
// namespace. That thread is then thrown away: it never returns to Go's
// pool, in namespaces no other goroutine expects.
func startInJoined(cmd *exec.Cmd, plan nsPlan) error {
	if plan.clone&unix.CLONE_NEWUSER == 0 || len(plan.join) == 0 {
		return cmd.Start()
	}
	cmd.Env = append(cmd.Env, joinedEnv+"=1")
	done := make(chan error, 1)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread exits with the goroutine
		for _, ns := range plan.join {
			if err := setnsPath(ns.Path, int(nsFlags[ns.Type])); err != nil {
				done <- fmt.Errorf("joining %s namespace %s: %w", ns.Type, ns.Path, err)
				return
			}
		}
		done <- cmd.Start()
	}()
	return <-done
}

func setnsPath(path string, flag int) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Setns(fd, flag)
}
