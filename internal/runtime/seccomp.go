package runtime

import (
	"fmt"

	"github.com/strata-containers/strata/internal/runtime/seccomp"
)

// compileSeccomp turns the spec's profile into a program before the init
// changes anything, so that a bad profile fails the create cleanly.
func (s *initState) compileSeccomp() error {
	p := s.cfg.Spec.Linux.Seccomp
	if p == nil {
		return nil
	}
	f, err := seccomp.Compile(p)
	if err != nil {
		return fmt.Errorf("seccomp profile: %w", err)
	}
	s.filter = f
	return nil
}

// loadSeccomp installs the filter if now is its moment. With
// no_new_privs it goes last, just before execve, so that the filter sees
// as little of the init as possible. Without it the kernel lets only a
// CAP_SYS_ADMIN holder install a filter, so it goes before the init
// drops its capabilities, as runc does; the profile must then allow what
// the init still does (capset, setuid, chdir, the start handshake,
// execve), which Docker's profile does.
func (s *initState) loadSeccomp(beforeExec bool) error {
	if s.filter == nil || beforeExec != s.cfg.Spec.Process.NoNewPrivileges {
		return nil
	}
	return s.filter.Load()
}
