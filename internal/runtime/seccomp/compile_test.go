package seccomp

import (
	"errors"
	goruntime "runtime"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// TestArgComparisons loads one rule on getpid, which ignores its
// arguments, and lets the kernel run the compiled comparison on 64-bit
// values whose halves disagree.
func TestArgComparisons(t *testing.T) {
	const big = 0x1_0000_0000
	for _, tc := range []struct {
		name    string
		arg     specs.LinuxSeccompArg
		matches []uint64
		misses  []uint64
	}{
		{"eq", specs.LinuxSeccompArg{Value: big + 2, Op: specs.OpEqualTo},
			[]uint64{big + 2}, []uint64{2, big, 2*big + 2, 0}},
		{"ne", specs.LinuxSeccompArg{Value: big + 2, Op: specs.OpNotEqual},
			[]uint64{2, big, 2*big + 2}, []uint64{big + 2}},
		{"gt", specs.LinuxSeccompArg{Value: big, Op: specs.OpGreaterThan},
			[]uint64{big + 1, 2 * big, ^uint64(0)}, []uint64{big, big - 1, 0}},
		{"ge", specs.LinuxSeccompArg{Value: big + 5, Op: specs.OpGreaterEqual},
			[]uint64{big + 5, big + 6, 2 * big}, []uint64{big + 4, 0xffff_ffff, 5}},
		{"lt", specs.LinuxSeccompArg{Value: big, Op: specs.OpLessThan},
			[]uint64{big - 1, 0}, []uint64{big, big + 1, 2*big - 1}},
		{"le", specs.LinuxSeccompArg{Value: big + 5, Op: specs.OpLessEqual},
			[]uint64{big + 5, big + 4, 0xffff_ffff}, []uint64{big + 6, 2 * big, 2*big + 5}},
		{"masked_eq", specs.LinuxSeccompArg{Value: 0xff00_0000_0000_00ff, ValueTwo: 0x1200_0000_0000_0034, Op: specs.OpMaskedEqual},
			[]uint64{0x12ab_cdef_0123_4534, 0x1200_0000_0000_0034}, []uint64{0x13ab_cdef_0123_4534, 0x12ab_cdef_0123_4535, 0x34}},
		{"clone flags", specs.LinuxSeccompArg{Value: 0x7e020000, ValueTwo: 0, Op: specs.OpMaskedEqual},
			[]uint64{unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_THREAD | unix.CLONE_SIGHAND, big << 4},
			[]uint64{unix.CLONE_NEWUSER, unix.CLONE_NEWNS | unix.CLONE_VM, unix.CLONE_NEWNET}},
		{"third argument", specs.LinuxSeccompArg{Index: 2, Value: ^uint64(0), Op: specs.OpEqualTo},
			[]uint64{^uint64(0)}, []uint64{0xffff_ffff, 0xffff_ffff_0000_0000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
				Names: []string{"getpid"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(unix.EDOM),
				Args: []specs.LinuxSeccompArg{tc.arg},
			}}}
			onFilteredThread(t, p, func() {
				for _, v := range tc.matches {
					if got := callWithArg(tc.arg.Index, v); got != unix.EDOM {
						t.Errorf("arg%d=%#x: errno %v, want the rule to match (EDOM)", tc.arg.Index, v, got)
					}
				}
				for _, v := range tc.misses {
					if got := callWithArg(tc.arg.Index, v); got != 0 {
						t.Errorf("arg%d=%#x: errno %v, want the rule not to match", tc.arg.Index, v, got)
					}
				}
			})
		})
	}
}

func callWithArg(index uint, v uint64) unix.Errno {
	args := make([]uintptr, 6)
	args[index] = uintptr(v)
	return call(unix.SYS_GETPID, args...)
}

// TestRuleOrder checks that conditional rules come first in profile
// order, then the first unconditional rule, then the default; that every
// argument of a rule must match; and that x32 syscalls are denied. The
// default allows: a thread of the test process must keep working.
func TestRuleOrder(t *testing.T) {
	eq := func(i uint, v uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: i, Value: v, Op: specs.OpEqualTo}
	}
	errno := func(e unix.Errno, names string, args ...specs.LinuxSeccompArg) specs.LinuxSyscall {
		return specs.LinuxSyscall{Names: []string{names}, Action: specs.ActErrno, ErrnoRet: errnoPtr(e), Args: args}
	}
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			errno(unix.ENOTSUP, "getpid"),
			errno(unix.EDOM, "getpid", eq(0, 1), eq(1, 2)),
			errno(unix.ERANGE, "getpid", eq(0, 1)),
			errno(unix.EBADE, "getppid"),
			{Names: []string{"getppid", "no_such_syscall"}, Action: specs.ActErrno},
			{Names: []string{"no_such_syscall", "gettid"}, Action: specs.ActErrno},
		},
	}
	onFilteredThread(t, p, func() {
		for _, tc := range []struct {
			nr   uintptr
			args []uintptr
			want unix.Errno
		}{
			{unix.SYS_GETPID, []uintptr{1, 2}, unix.EDOM},
			{unix.SYS_GETPID, []uintptr{1, 3}, unix.ERANGE},
			{unix.SYS_GETPID, []uintptr{0, 2}, unix.ENOTSUP},
			{unix.SYS_GETTID, nil, unix.EPERM},
			{unix.SYS_GETPPID, nil, unix.EBADE},
			{unix.SYS_GETUID, nil, 0},
			{x32Bit | unix.SYS_GETPID, nil, unix.ENOSYS},
		} {
			if got := call(tc.nr, tc.args...); got != tc.want {
				t.Errorf("syscall %#x%v: errno %v, want %v", tc.nr, tc.args, got, tc.want)
			}
		}
	})
}

// TestLongJumps compiles a profile large enough that the rules sit more
// than 255 instructions from the search tree, which the kernel accepts
// only if the far jumps went through unconditional ones.
func TestLongJumps(t *testing.T) {
	var calls []specs.LinuxSyscall
	for name := range syscallNumbers {
		calls = append(calls, specs.LinuxSyscall{Names: []string{name}, Action: specs.ActErrno,
			ErrnoRet: errnoPtr(unix.EDOM), Args: []specs.LinuxSeccompArg{{Index: 5, Value: 0xdead_0000_0000, Op: specs.OpEqualTo}}})
	}
	p := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: calls}
	f, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Program) < 1000 {
		t.Fatalf("program of %d instructions is too small to need long jumps", len(f.Program))
	}
	onFilteredThread(t, p, func() {
		if got := call(unix.SYS_GETPID, 0, 0, 0, 0, 0, 0xdead_0000_0000); got != unix.EDOM {
			t.Errorf("getpid with the matching argument: errno %v, want EDOM", got)
		}
		if got := call(unix.SYS_GETPID); got != 0 {
			t.Errorf("plain getpid: errno %v", got)
		}
	})
}

func TestCompileRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    specs.LinuxSeccomp
	}{
		{"unknown action", specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_MAYBE"}},
		{"notify", specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}},
		{"listener", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/x.sock"}},
		{"errno too big", specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: errnoPtr(0x10000)}},
		{"argument index", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
			Names: []string{"mkdir"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}}},
		{"operator", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{
			Names: []string{"mkdir"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_ABOUT"}}}}}},
		{"no names", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Action: specs.ActErrno}}}},
		{"flag", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_NOPE"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(&tc.p)
			if !errdefs.IsInvalid(err) {
				t.Fatalf("Compile: %v, want an invalid-argument error", err)
			}
		})
	}
}

func TestActionValues(t *testing.T) {
	for _, tc := range []struct {
		act   specs.LinuxSeccompAction
		errno *uint
		want  uint32
	}{
		{specs.ActAllow, nil, unix.SECCOMP_RET_ALLOW},
		{specs.ActErrno, nil, unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{specs.ActErrno, errnoPtr(unix.EACCES), unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)},
		{specs.ActKill, nil, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillThread, nil, unix.SECCOMP_RET_KILL_THREAD},
		{specs.ActKillProcess, nil, unix.SECCOMP_RET_KILL_PROCESS},
		{specs.ActTrap, nil, unix.SECCOMP_RET_TRAP},
		{specs.ActTrace, errnoPtr(7), unix.SECCOMP_RET_TRACE | 7},
		{specs.ActLog, nil, unix.SECCOMP_RET_LOG},
	} {
		got, err := actionValue(tc.act, tc.errno)
		if err != nil || got != tc.want {
			t.Errorf("%s: %#x, %v; want %#x", tc.act, got, err, tc.want)
		}
	}
}

func TestLoadNeedsNoNewPrivs(t *testing.T) {
	if unix.Geteuid() == 0 {
		t.Skip("needs a user without CAP_SYS_ADMIN: root may load filters without no_new_privs")
	}
	f, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		goruntime.LockOSThread()
		done <- f.Load()
	}()
	if err := <-done; !errors.Is(err, unix.EACCES) {
		t.Fatalf("Load without no_new_privs: %v, want EACCES", err)
	}
}
