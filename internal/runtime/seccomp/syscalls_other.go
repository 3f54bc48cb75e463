//go:build !amd64

package seccomp

// nativeArch is zero where strata has no syscall table: Compile refuses
// every profile there rather than guess the numbers.
const nativeArch = 0

var syscallNumbers = map[string]uint32{}
