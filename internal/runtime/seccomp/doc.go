// Package seccomp compiles OCI seccomp profiles into classic BPF and loads
// them, and owns strata's copy of Docker's default profile. It is the
// runtime's replacement for libseccomp: pure Go, no cgo.
//
// Profiles come in two shapes. The OCI one (specs.LinuxSeccomp) is what
// the runtime reads from config.json and what Compile takes. Docker's file
// format adds conditions to rules (architecture, capabilities, minimum
// kernel) that Parse resolves for one container; DefaultProfile is the
// embedded default.json resolved that way, and ForOption maps Docker's
// --security-opt seccomp=... values (unconfined, a file, inline JSON).
//
// The compiled program checks the architecture first (x86_64 only; x32
// syscalls, with bit 0x40000000, are denied), then finds the syscall
// number by binary search over ranges of numbers that share an action
// (Docker's default profile compiles to about 100 instructions), and runs
// the syscall's rules when it has conditional ones: those in the
// profile's order, first match wins, then the first unconditional rule,
// then the default action. Arguments compare as
// unsigned 64-bit values, two 32-bit halves at a time. Syscall names
// missing on x86_64 are skipped, as libseccomp does.
//
// Invariants: Compile never emits a program the kernel would reject for
// its shape (jumps are forward and in range, at most BPF_MAXINSNS
// instructions); a Filter is loaded on one thread, the one that execs.
//
// syscalls_amd64.go is generated from x/sys/unix:
//
//	grep -oE 'SYS_[A-Z0-9_]+ +=' zsysnum_linux_amd64.go |
//	    awk '{printf "\t\"%s\": unix.%s,\n", tolower(substr($1,5)), $1}'
package seccomp
