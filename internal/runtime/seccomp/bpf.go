package seccomp

import "golang.org/x/sys/unix"

// Classic BPF opcodes used by the filters (linux/bpf_common.h).
const (
	bpfLdAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfAndK   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	bpfJa     = unix.BPF_JMP | unix.BPF_JA
	bpfJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgtK   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	bpfJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfRetK   = unix.BPF_RET | unix.BPF_K
)

// Offsets into struct seccomp_data: nr, arch, instruction_pointer, args[6].
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// maxInsns is the kernel's BPF_MAXINSNS.
const maxInsns = 4096

// builder assembles a program backwards, from its last instruction to its
// first. Every jump then targets an instruction that already exists, so
// its distance is known when the jump is written; a conditional jump
// (8-bit offsets) to something farther than 255 instructions goes through
// an unconditional one (32-bit offset) placed right after it.
type builder struct {
	rev  []unix.SockFilter
	rets map[uint32]label
}

// label names an instruction by its distance from the end of the program
// (1 for the last), which does not change as instructions are prepended.
type label int

func newBuilder() *builder {
	return &builder{rets: make(map[uint32]label)}
}

func (b *builder) emit(ins unix.SockFilter) label {
	b.rev = append(b.rev, ins)
	return label(len(b.rev))
}

// dist is the jump offset from the next instruction to be emitted to l.
func (b *builder) dist(l label) int { return len(b.rev) - int(l) }

func (b *builder) load(off uint32) label {
	return b.emit(unix.SockFilter{Code: bpfLdAbsW, K: off})
}

func (b *builder) and(mask uint32) label {
	return b.emit(unix.SockFilter{Code: bpfAndK, K: mask})
}

// ret returns an instruction that returns v, sharing a nearby one.
func (b *builder) ret(v uint32) label {
	if l, ok := b.rets[v]; ok && b.dist(l) <= 255 {
		return l
	}
	l := b.emit(unix.SockFilter{Code: bpfRetK, K: v})
	b.rets[v] = l
	return l
}

// jump emits "if A <op> k goto t else goto f".
func (b *builder) jump(code uint16, k uint32, t, f label) label {
	// The first check leaves room for the second to push t one further.
	if b.dist(t) > 254 {
		t = b.emit(unix.SockFilter{Code: bpfJa, K: uint32(b.dist(t))})
	}
	if b.dist(f) > 255 {
		f = b.emit(unix.SockFilter{Code: bpfJa, K: uint32(b.dist(f))})
	}
	return b.emit(unix.SockFilter{Code: code, Jt: uint8(b.dist(t)), Jf: uint8(b.dist(f)), K: k})
}

// program returns the instructions in execution order.
func (b *builder) program() []unix.SockFilter {
	out := make([]unix.SockFilter, len(b.rev))
	for i, ins := range b.rev {
		out[len(b.rev)-1-i] = ins
	}
	return out
}
