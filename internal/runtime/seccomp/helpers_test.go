package seccomp

import (
	goruntime "runtime"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// onFilteredThread runs fn on an OS thread of its own that has the
// profile loaded. The goroutine never unlocks the thread, so the thread
// (and its filter, which cannot be removed) ends with it; the Go runtime
// never starts new threads from a locked one, so the filter cannot spread.
func onFilteredThread(t testing.TB, p *specs.LinuxSeccomp, fn func()) {
	t.Helper()
	if goruntime.GOARCH != "amd64" {
		t.Skip("needs amd64: the only syscall table")
	}
	f, err := Compile(p)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	done := make(chan error)
	go func() {
		goruntime.LockOSThread()
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			done <- err
			return
		}
		if err := f.Load(); err != nil {
			done <- err
			return
		}
		fn()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// call makes a raw syscall and returns its errno (0 for success).
func call(nr uintptr, args ...uintptr) unix.Errno {
	var a [6]uintptr
	copy(a[:], args)
	_, _, errno := unix.RawSyscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	return errno
}

func errnoPtr(e unix.Errno) *uint {
	v := uint(e)
	return &v
}
