package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// sealedExe returns this process's executable in a form no one can write,
// from which the container's init is executed (the CVE-2019-5736 class).
//
// A process in the container can reach its init's executable through
// /proc/<pid>/exe; were that the strata binary on the host, a container
// that wins a race could open it for writing and replace the host's
// runtime. The file is opened through a read-only overlay mount of its
// own (protectedExe), as runc does since 1.2, or, where that cannot be
// made, copied into a memfd with every seal applied: it cannot be written,
// shrunk, grown or unsealed, and it disappears with its last user.
func sealedExe() (*os.File, error) { return sealedCopy("/proc/self/exe") }

// sealedCopy is sealedExe of the executable at path: the executable seen
// through a private read-only overlay (protectedExe), or, where the kernel
// cannot make one, a sealed memfd copy.
func sealedCopy(path string) (*os.File, error) {
	if f, err := protectedExe(path); err == nil {
		return f, nil
	}
	return memfdCopy(path)
}

// memfdCopy copies the executable at path into a memfd with every seal.
func memfdCopy(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening executable %s: %w", path, err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("strata-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		// Before Linux 6.3 there is no MFD_EXEC and every memfd is executable.
		fd, err = unix.MemfdCreate("strata-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("creating memfd for sealed executable: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:strata-init")
	if err := copyFile(f, src); err != nil {
		f.Close()
		return nil, fmt.Errorf("copying own executable into memfd: %w", err)
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals|unix.F_SEAL_EXEC); errors.Is(err, unix.EINVAL) {
		// F_SEAL_EXEC (Linux 6.3) keeps the mode from changing; older
		// kernels lack it, and the other seals still hold.
		_, err = unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("sealing executable copy: %w", err)
		}
	} else if err != nil {
		f.Close()
		return nil, fmt.Errorf("sealing executable copy: %w", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL); err != nil {
		f.Close()
		return nil, fmt.Errorf("sealing the seals of executable copy: %w", err)
	}
	return f, nil
}

// copyFile copies src to dst with sendfile, in the kernel: io.Copy would
// fall back to a read/write loop between these two files, which costs a
// few thousand syscalls for a binary of this size.
func copyFile(dst, src *os.File) error {
	var off int64
	for {
		n, err := unix.Sendfile(int(dst.Fd()), int(src.Fd()), &off, 1<<30)
		switch {
		case errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN):
			continue
		case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
			if off == 0 {
				_, err = io.Copy(dst, src)
			}
			return err
		case err != nil:
			return err
		case n == 0:
			return nil
		}
	}
}

// SealedExe returns this process's executable as sealedExe does, for
// CreateOpts.Exe. Making it costs a few hundred microseconds (a copy of the
// binary, several milliseconds, where the overlay cannot be made), which a
// caller can overlap with other work.
func SealedExe() (*os.File, error) { return sealedExe() }

// SealedCopy is SealedExe of another executable that calls Init first
// thing (strata-monitor), for CreateOpts.Exe.
func SealedCopy(path string) (*os.File, error) { return sealedCopy(path) }

// checkSealed refuses a file given as CreateOpts.Exe that a container
// could write through /proc/<pid>/exe: it must be a fully sealed memfd or
// on a read-only overlay (protectedExe).
func checkSealed(f *os.File) error {
	if readOnlyOverlay(f) {
		return nil
	}
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		return errdefs.Invalid("executable %s is not a sealed memfd: %w", f.Name(), err)
	}
	if seals&allSeals != allSeals {
		return errdefs.Invalid("executable %s is not fully sealed (seals %#x)", f.Name(), seals)
	}
	return nil
}

// allSeals is what a sealed executable must carry; tests check it.
const allSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
