package runtime

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/testutil"
)

// exeProbeEnv makes the test binary, run as a container's workload through
// /proc/self/exe, act as a CVE-2019-5736 attacker: it reports what its
// /proc/self/exe is and tries to write to it.
const exeProbeEnv = "STRATA_TEST_EXE_PROBE"

func exeProbe() int {
	link, _ := os.Readlink("/proc/self/exe")
	fmt.Printf("exe=%s\n", link)
	if f, err := os.Open("/proc/self/exe"); err == nil {
		seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
		fmt.Printf("sealed=%v seals=%#x err=%v\n", err == nil && seals&allSeals == allSeals, seals, err)
		fmt.Printf("protected=%v\n", checkSealed(f) == nil)
		f.Close()
	}
	f, err := os.OpenFile("/proc/self/exe", os.O_WRONLY, 0)
	if err == nil {
		_, err = f.Write([]byte("pwned"))
		f.Close()
	}
	fmt.Printf("write=%v\n", err)
	return 0
}

// TestSealedExeCannotBeWritten checks the memfd copy, the fallback where
// no read-only overlay can be made.
func TestSealedExeCannotBeWritten(t *testing.T) {
	f, err := memfdCopy("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil || seals&allSeals != allSeals {
		t.Fatalf("seals %#x (%v), want at least %#x", seals, err, allSeals)
	}
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, unix.EPERM) {
		t.Errorf("write to sealed copy: %v, want EPERM", err)
	}
	if err := f.Truncate(0); !errors.Is(err, unix.EPERM) {
		t.Errorf("truncate of sealed copy: %v, want EPERM", err)
	}
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := os.ReadFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil || !bytes.Equal(self, sealed) {
		t.Fatalf("sealed copy differs from the executable (%v)", err)
	}
}

// TestProtectedExeCannotBeWritten: the executable seen through its own
// read-only overlay has the binary's bytes and refuses every write, also
// when reopened through /proc (as a container reopens /proc/<pid>/exe).
func TestProtectedExeCannotBeWritten(t *testing.T) {
	testutil.RequireRoot(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := protectedExe(self)
	if err != nil {
		t.Skipf("needs fsopen and overlayfs without an upper layer: %v", err)
	}
	defer f.Close()
	if err := checkSealed(f); err != nil {
		t.Errorf("checkSealed: %v", err)
	}
	proc := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	if w, err := os.OpenFile(proc, os.O_WRONLY, 0); !errors.Is(err, unix.EROFS) {
		if err == nil {
			w.Close()
		}
		t.Errorf("reopening for writing: %v, want EROFS", err)
	}
	if err := os.Truncate(proc, 0); err == nil {
		t.Error("truncate through the overlay succeeded")
	}
	want, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(proc); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the protected executable differs from the binary (%v)", err)
	}
}

// TestContainerCannotOverwriteRuntime runs the runtime's own binary in a
// container, as a CVE-2019-5736 exploit does through /proc/self/exe, and
// checks that it reaches only the sealed copy.
func TestContainerCannotOverwriteRuntime(t *testing.T) {
	bundle, spec := newBundle(t, "/proc/self/exe")
	spec.Process.Env = append(spec.Process.Env, exeProbeEnv+"=1")
	host, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec.Mounts = append(spec.Mounts, hostLibraries(t, host)...)
	before := fileHash(t, host)
	res := run(t, newRuntime(t), bundle, spec)
	if res.code != 0 {
		t.Fatalf("probe exited %d: %s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "protected=true") {
		t.Errorf("the executable the container sees is neither a sealed memfd nor on a read-only overlay:\n%s", res.stdout)
	}
	if strings.Contains(res.stdout, "write=<nil>") {
		t.Errorf("the container could write to its executable:\n%s", res.stdout)
	}
	if after := fileHash(t, host); after != before {
		t.Fatal("the host's binary changed")
	}
}

// hostLibraries returns read-only binds of the host's library directories
// when the binary at exe is dynamically linked (a test binary with cgo),
// so that it can run in the busybox container.
func hostLibraries(t *testing.T, exe string) []specs.Mount {
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dynamic := false
	for _, p := range f.Progs {
		dynamic = dynamic || p.Type == elf.PT_INTERP
	}
	var ms []specs.Mount
	for _, dir := range []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64"} {
		if _, err := os.Stat(dir); dynamic && err == nil {
			ms = append(ms, specs.Mount{Destination: dir, Type: "bind", Source: dir,
				Options: []string{"rbind", "ro", "nosuid", "nodev"}})
		}
	}
	return ms
}

func fileHash(t *testing.T, p string) [32]byte {
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// BenchmarkExeProtection compares the two forms of the protected
// executable, made of this test binary.
func BenchmarkExeProtection(b *testing.B) {
	testutil.RequireRoot(b)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for name, mk := range map[string]func(string) (*os.File, error){"overlay": protectedExe, "memfd": memfdCopy} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				f, err := mk(self)
				if err != nil {
					b.Skip(err)
				}
				f.Close()
			}
		})
	}
}
