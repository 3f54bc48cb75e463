package cli

import (
	"os"
	"strconv"
	"testing"
)

// TestRuntimeCLIExec: `strata runtime exec` runs a command in a running
// container with runc's flags, and exits with the command's code.
func TestRuntimeCLIExec(t *testing.T) {
	o := newOCICLI(t)
	id := "exec-" + strconv.Itoa(os.Getpid())
	o.create(id, "sleep", "1000")
	o.ok("start", id)
	if out := o.ok("exec", "--cwd", "/tmp", "-e", "FOO=bar", "-u", "1000:1000", id, "sh", "-c", "echo $FOO $PWD $(id -u)"); out != "bar /tmp 1000\n" {
		t.Errorf("exec printed %q", out)
	}
	if r := o.run(nil, "exec", id, "sh", "-c", "exit 7"); r.code != 7 {
		t.Errorf("exec of exit 7: exit %d, stderr %q", r.code, r.stderr)
	}
	o.ok("kill", id, "KILL")
	o.waitStopped(id)
	if r := o.run(nil, "exec", id, "true"); r.code != 1 {
		t.Errorf("exec into a stopped container: exit %d, stderr %q", r.code, r.stderr)
	}
}
