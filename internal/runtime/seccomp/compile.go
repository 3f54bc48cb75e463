package seccomp

import (
	goruntime "runtime"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// Filter is a compiled profile, ready to load.
type Filter struct {
	// Program is the classic BPF program, in execution order.
	Program []unix.SockFilter
	// Flags are the SECCOMP_FILTER_FLAG_* bits to load it with.
	Flags uint
}

// x32Bit marks the syscalls of the x32 ABI, which share x86_64's audit
// architecture.
const x32Bit = 0x40000000

// foreignArches are the architectures a native x86_64 kernel also runs;
// x32 is not here, as it is told apart by x32Bit rather than by arch.
var foreignArches = map[specs.Arch]uint32{specs.ArchX86: unix.AUDIT_ARCH_I386}

// group is what one syscall's rules compile to: the conditional rules in
// the profile's order, then the first unconditional one or the default.
type group struct {
	cond   []rule
	uncond *uint32
}

type rule struct {
	args []specs.LinuxSeccompArg
	ret  uint32
}

// Compile turns an OCI seccomp profile into a BPF program for this
// machine's architecture (x86_64). Names the architecture lacks are
// skipped, as libseccomp does. Syscalls of an architecture the profile
// lists but that strata has no table for (x86, x32) get the default
// action, or ENOSYS if the default allows; those of an unlisted one kill
// the process, libseccomp's default for a bad architecture.
func Compile(p *specs.LinuxSeccomp) (*Filter, error) {
	if nativeArch == 0 {
		return nil, errdefs.Unavailable("seccomp: no syscall table for %s", goruntime.GOARCH)
	}
	if p.ListenerPath != "" {
		return nil, errdefs.Invalid("seccomp listener %s: user notification is not supported", p.ListenerPath)
	}
	def, err := actionValue(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	flags, err := filterFlags(p.Flags)
	if err != nil {
		return nil, err
	}
	groups, err := groupRules(p.Syscalls)
	if err != nil {
		return nil, err
	}
	prog := assemble(groups, def, p.Architectures)
	if len(prog) > maxInsns {
		return nil, errdefs.Invalid("seccomp profile compiles to %d instructions, above the kernel's %d", len(prog), maxInsns)
	}
	return &Filter{Program: prog, Flags: flags}, nil
}

// actionValue is the SECCOMP_RET_* value of an action.
func actionValue(act specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		if *errnoRet > unix.SECCOMP_RET_DATA {
			return 0, errdefs.Invalid("seccomp action %s: errno %d out of range", act, *errnoRet)
		}
		data = uint32(*errnoRet)
	}
	switch act {
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | data, nil
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | data, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	case specs.ActNotify:
		return 0, errdefs.Invalid("seccomp action %s: user notification is not supported", act)
	}
	return 0, errdefs.Invalid("unknown seccomp action %q", act)
}

func filterFlags(fs []specs.LinuxSeccompFlag) (uint, error) {
	var flags uint
	for _, f := range fs {
		switch f {
		case specs.LinuxSeccompFlagLog:
			flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		default:
			return 0, errdefs.Invalid("unsupported seccomp flag %q", f)
		}
	}
	return flags, nil
}

// groupRules sorts the profile's rules by syscall number.
func groupRules(calls []specs.LinuxSyscall) (map[uint32]*group, error) {
	groups := make(map[uint32]*group)
	for _, c := range calls {
		if len(c.Names) == 0 {
			return nil, errdefs.Invalid("seccomp rule for action %s names no syscall", c.Action)
		}
		ret, err := actionValue(c.Action, c.ErrnoRet)
		if err != nil {
			return nil, err
		}
		if err := checkArgs(c.Args); err != nil {
			return nil, errdefs.Invalid("seccomp rule for %s: %w", c.Names[0], err)
		}
		for _, name := range c.Names {
			nr, ok := syscallNumbers[name]
			if !ok {
				continue
			}
			g := groups[nr]
			if g == nil {
				g = &group{}
				groups[nr] = g
			}
			switch {
			case len(c.Args) > 0:
				g.cond = append(g.cond, rule{args: c.Args, ret: ret})
			case g.uncond == nil:
				g.uncond = &ret
			}
		}
	}
	return groups, nil
}

// deny is what a syscall the filter cannot judge gets: the default action
// unless that lets it through.
func deny(def uint32) uint32 {
	switch def & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_LOG, unix.SECCOMP_RET_TRACE:
		return unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	}
	return def
}

// assemble lays the program out as: check the architecture, then a
// binary search on the syscall number down to each syscall's rules, or
// straight to the action of a run of syscalls that share one. It is built
// backwards (see builder).
func assemble(groups map[uint32]*group, def uint32, arches []specs.Arch) []unix.SockFilter {
	b := newBuilder()
	nrs := make([]uint32, 0, len(groups))
	for nr, g := range groups {
		if len(g.cond) > 0 || (g.uncond != nil && *g.uncond != def) {
			nrs = append(nrs, nr)
		}
	}
	slices.Sort(nrs)
	blocks := make([]label, len(nrs))
	for i := len(nrs) - 1; i >= 0; i-- {
		if len(groups[nrs[i]].cond) > 0 {
			blocks[i] = b.block(groups[nrs[i]], def)
		}
	}
	x32 := uint32(unix.SECCOMP_RET_KILL_PROCESS)
	if slices.Contains(arches, specs.ArchX32) {
		x32 = deny(def)
	}
	b.search(spans(nrs, blocks, groups, def, x32))
	native := b.load(offNr)
	other := b.ret(unix.SECCOMP_RET_KILL_PROCESS)
	for _, a := range arches {
		if audit, ok := foreignArches[a]; ok {
			other = b.jump(bpfJeqK, audit, b.ret(deny(def)), other)
		}
	}
	b.jump(bpfJeqK, nativeArch, native, other)
	b.load(offArch)
	return b.program()
}

// span is a range of syscall numbers, from lo to the next span's lo,
// that either returns ret or, for a single syscall with conditional
// rules, goes to its block.
type span struct {
	lo    uint32
	ret   uint32
	block label // 0 for none
}

// spans partitions all syscall numbers, merging neighbours with the same
// action: Docker's allowlist has long runs of allowed numbers. The x32
// numbers form the last span.
func spans(nrs []uint32, blocks []label, groups map[uint32]*group, def, x32 uint32) []span {
	out := []span{{lo: 0, ret: def}}
	add := func(s span) {
		if n := len(out); n > 0 && out[n-1].lo == s.lo {
			out = out[:n-1] // s replaces a span that would be empty
		}
		if n := len(out); n > 0 && out[n-1].block == 0 && s.block == 0 && out[n-1].ret == s.ret {
			return
		}
		out = append(out, s)
	}
	for i, nr := range nrs {
		if blocks[i] != 0 {
			add(span{lo: nr, block: blocks[i]})
		} else {
			add(span{lo: nr, ret: *groups[nr].uncond})
		}
		add(span{lo: nr + 1, ret: def})
	}
	add(span{lo: x32Bit, ret: x32})
	return out
}

// search emits a binary search for the accumulator among the spans, which
// cover every number, so that a leaf needs no test of its own.
func (b *builder) search(ss []span) label {
	if len(ss) == 1 {
		if ss[0].block != 0 {
			return ss[0].block
		}
		return b.ret(ss[0].ret)
	}
	mid := len(ss) / 2
	right := b.search(ss[mid:])
	left := b.search(ss[:mid])
	return b.jump(bpfJgeK, ss[mid].lo, right, left)
}

// block emits one syscall's rules: each conditional rule falls through to
// the next on a mismatch, the last to the unconditional action.
func (b *builder) block(g *group, def uint32) label {
	end := def
	if g.uncond != nil {
		end = *g.uncond
	}
	next := b.ret(end)
	for i := len(g.cond) - 1; i >= 0; i-- {
		r := g.cond[i]
		pass := b.ret(r.ret)
		for j := len(r.args) - 1; j >= 0; j-- {
			pass = b.compare(r.args[j], pass, next)
		}
		next = pass
	}
	return next
}
