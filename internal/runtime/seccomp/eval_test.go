package seccomp

import (
	"encoding/binary"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// run interprets the opcodes the compiler emits, on a seccomp_data; the
// kernel tests cover what it does, this covers every syscall number.
func run(t *testing.T, prog []unix.SockFilter, arch, nr uint32, args [6]uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.LittleEndian.PutUint32(data[offNr:], nr)
	binary.LittleEndian.PutUint32(data[offArch:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[offArgs+8*i:], a)
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		cond := false
		switch ins.Code {
		case bpfLdAbsW:
			acc = binary.LittleEndian.Uint32(data[ins.K:])
			continue
		case bpfAndK:
			acc &= ins.K
			continue
		case bpfRetK:
			return ins.K
		case bpfJa:
			pc += int(ins.K)
			continue
		case bpfJeqK:
			cond = acc == ins.K
		case bpfJgtK:
			cond = acc > ins.K
		case bpfJgeK:
			cond = acc >= ins.K
		default:
			t.Fatalf("unexpected opcode %#x at %d", ins.Code, pc)
		}
		if cond {
			pc += int(ins.Jt)
		} else {
			pc += int(ins.Jf)
		}
	}
	t.Fatal("program ran off its end")
	return 0
}

// TestEverySyscallNumber checks the ranges of the default profile's
// program against the profile: each number of the table, its neighbours
// outside it, and the x32 and foreign-architecture numbers.
func TestEverySyscallNumber(t *testing.T) {
	p := DefaultProfile(nil)
	f, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := make(map[uint32]uint32)
	for _, r := range p.Syscalls {
		for _, name := range r.Names {
			if nr, ok := syscallNumbers[name]; ok && len(r.Args) == 0 {
				want[nr] = unix.SECCOMP_RET_ALLOW
			}
		}
	}
	eperm := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	want[unix.SYS_CLONE3] = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	for nr := uint32(0); nr < 1024; nr++ {
		exp, ok := want[nr]
		if !ok {
			exp = eperm
		}
		if nr == unix.SYS_CLONE || nr == unix.SYS_SOCKET || nr == unix.SYS_PERSONALITY {
			continue // conditional: the kernel tests cover them
		}
		if got := run(t, f.Program, nativeArch, nr, [6]uint64{}); got != exp {
			t.Errorf("syscall %d: %#x, want %#x", nr, got, exp)
		}
	}
	for _, tc := range []struct {
		arch, nr, want uint32
	}{
		{nativeArch, x32Bit | unix.SYS_GETPID, eperm},
		{nativeArch, 0xffffffff, eperm},
		{unix.AUDIT_ARCH_I386, 20, eperm},
		{unix.AUDIT_ARCH_AARCH64, unix.SYS_GETPID, unix.SECCOMP_RET_KILL_PROCESS},
	} {
		if got := run(t, f.Program, tc.arch, tc.nr, [6]uint64{}); got != tc.want {
			t.Errorf("arch %#x syscall %#x: %#x, want %#x", tc.arch, tc.nr, got, tc.want)
		}
	}
	if got := run(t, f.Program, nativeArch, unix.SYS_CLONE, [6]uint64{unix.CLONE_NEWNS}); got != eperm {
		t.Errorf("clone(CLONE_NEWNS): %#x, want EPERM", got)
	}
	native := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	if f, _ = Compile(native); run(t, f.Program, unix.AUDIT_ARCH_I386, 20, [6]uint64{}) != unix.SECCOMP_RET_KILL_PROCESS {
		t.Error("an architecture the profile does not list is not killed")
	}
}
