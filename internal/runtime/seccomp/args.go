package seccomp

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// maxArgs is the number of arguments seccomp_data carries.
const maxArgs = 6

func checkArgs(args []specs.LinuxSeccompArg) error {
	for _, a := range args {
		if a.Index >= maxArgs {
			return errdefs.Invalid("argument index %d out of range", a.Index)
		}
		switch a.Op {
		case specs.OpEqualTo, specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual,
			specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpMaskedEqual:
		default:
			return errdefs.Invalid("unknown comparison %q", a.Op)
		}
	}
	return nil
}

// compare emits a 64-bit unsigned comparison of one argument, going to
// pass or fail. BPF words are 32 bits: the high halves decide unless they
// are equal, then the low halves do. The arguments are little-endian in
// seccomp_data, which is right for x86_64, the one table strata has.
func (b *builder) compare(a specs.LinuxSeccompArg, pass, fail label) label {
	lo := uint32(offArgs + 8*a.Index)
	hi := lo + 4
	vlo, vhi := uint32(a.Value), uint32(a.Value>>32)
	switch a.Op {
	case specs.OpNotEqual:
		return b.equal(lo, hi, vlo, vhi, fail, pass)
	case specs.OpLessThan:
		return b.greater(bpfJgeK, lo, hi, vlo, vhi, fail, pass)
	case specs.OpLessEqual:
		return b.greater(bpfJgtK, lo, hi, vlo, vhi, fail, pass)
	case specs.OpGreaterThan:
		return b.greater(bpfJgtK, lo, hi, vlo, vhi, pass, fail)
	case specs.OpGreaterEqual:
		return b.greater(bpfJgeK, lo, hi, vlo, vhi, pass, fail)
	case specs.OpMaskedEqual:
		// libseccomp's order: Value is the mask, ValueTwo the datum.
		dlo, dhi := uint32(a.ValueTwo), uint32(a.ValueTwo>>32)
		b.jump(bpfJeqK, dlo, pass, fail)
		b.and(vlo)
		next := b.load(lo)
		b.jump(bpfJeqK, dhi, next, fail)
		b.and(vhi)
		return b.load(hi)
	}
	return b.equal(lo, hi, vlo, vhi, pass, fail)
}

// equal emits "arg == v".
func (b *builder) equal(lo, hi, vlo, vhi uint32, pass, fail label) label {
	b.jump(bpfJeqK, vlo, pass, fail)
	next := b.load(lo)
	b.jump(bpfJeqK, vhi, next, fail)
	return b.load(hi)
}

// greater emits "arg > v" (jgt) or "arg >= v" (jge): a larger high half
// passes, a smaller one fails, an equal one leaves it to the low half.
func (b *builder) greater(op uint16, lo, hi, vlo, vhi uint32, pass, fail label) label {
	b.jump(op, vlo, pass, fail)
	next := b.load(lo)
	next = b.jump(bpfJeqK, vhi, next, fail)
	b.jump(bpfJgtK, vhi, pass, next)
	return b.load(hi)
}
