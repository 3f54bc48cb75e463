package cli

import "testing"

// TestE2ERunAttachStreams checks run's -a as docker has it: only the
// streams named reach the client.
func TestE2ERunAttachStreams(t *testing.T) {
	s := newContainerStore(t)
	script := "echo to-out; echo to-err >&2"
	for _, tc := range []struct {
		args           []string
		stdout, stderr string
	}{
		{[]string{"-a", "stderr"}, "", "to-err\n"},
		{[]string{"-a", "stdout"}, "to-out\n", ""},
		{[]string{"-a", "stdout", "-a", "stderr"}, "to-out\n", "to-err\n"},
		{nil, "to-out\n", "to-err\n"},
		// -i goes through the attach connection rather than the log.
		{[]string{"-i", "-a", "stdin", "-a", "stderr"}, "", "to-err\n"},
	} {
		args := append(append([]string{"run", "--rm"}, tc.args...), "busybox", "sh", "-c", script)
		r := s.run(nil, args...)
		if r.code != 0 || r.stdout != tc.stdout || r.stderr != tc.stderr {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want stdout %q, stderr %q",
				tc.args, r.code, r.stdout, r.stderr, tc.stdout, tc.stderr)
		}
	}
}
