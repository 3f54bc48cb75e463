// Package testutil holds what strata's tests share: skips that name the
// missing feature (never a silent pass), and makers of real fixtures.
package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/testutil/rootfs"
)

// RequireRoot skips the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (mounts, device nodes, ownership, trusted xattrs)")
	}
}

// RequireOverlay skips the test unless overlayfs can be used here.
func RequireOverlay(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil || !bytes.Contains(data, []byte("\toverlay\n")) {
		t.Skip("needs overlayfs (not in /proc/filesystems; try modprobe overlay)")
	}
}

// RequireBinary skips the test unless name is on PATH and returns its path.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("needs %s on PATH (%s)", name, debianPackage(name))
	}
	return p
}

func debianPackage(binary string) string {
	switch binary {
	case "busybox":
		return "apt-get install busybox-static"
	case "docker-registry":
		return "apt-get install docker-registry"
	case "docker":
		return "apt-get install docker.io"
	}
	return "apt-get install " + binary
}

// BusyboxRootfs returns a busybox root filesystem tar (uncompressed), or
// skips the test when Debian's busybox-static is not installed.
func BusyboxRootfs(t testing.TB) []byte {
	t.Helper()
	bb, err := rootfs.Find()
	if err != nil {
		t.Skip(err.Error())
	}
	var buf bytes.Buffer
	if err := rootfs.WriteBusybox(&buf, bb); err != nil {
		t.Fatalf("making busybox rootfs: %v", err)
	}
	return buf.Bytes()
}

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
