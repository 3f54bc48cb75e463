package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// BenchmarkGetpid measures what a filter adds to a cheap syscall: getpid
// in a loop on a thread without a filter, with Docker's default profile
// (getpid sits deep in its allowlist) and with an allow-everything one.
func BenchmarkGetpid(b *testing.B) {
	loop := func(b *testing.B) {
		for range b.N {
			if errno := call(unix.SYS_GETPID); errno != 0 {
				b.Fatal(errno)
			}
		}
	}
	b.Run("unfiltered", loop)
	for _, tc := range []struct {
		name string
		p    *specs.LinuxSeccomp
	}{
		{"default-profile", DefaultProfile(nil)},
		{"allow-all", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			onFilteredThread(b, tc.p, func() {
				b.ResetTimer()
				loop(b)
			})
		})
	}
}

func BenchmarkCompileDefault(b *testing.B) {
	p := DefaultProfile([]string{"CAP_CHOWN", "CAP_SETUID"})
	for range b.N {
		if _, err := Compile(p); err != nil {
			b.Fatal(err)
		}
	}
}
