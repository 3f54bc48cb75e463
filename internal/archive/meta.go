package archive

import (
	"archive/tar"
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// paxXattr prefixes the PAX records that carry extended attributes
// (the convention of star and GNU tar, which Docker and the OCI follow).
const paxXattr = "SCHILY.xattr."

// overlayXattr prefixes overlayfs's private attributes. They are never read
// from a layer (a layer must not steer overlay lookups with redirects or
// metacopy marks) nor written to one (whiteouts are the portable form).
const overlayXattr = "trusted.overlay."

// timespecs returns the atime and mtime to restore for hdr; an entry without
// an atime gets its mtime, so the result does not depend on the clock.
func timespecs(hdr *tar.Header) [2]unix.Timespec {
	a := hdr.AccessTime
	if a.IsZero() {
		a = hdr.ModTime
	}
	return [2]unix.Timespec{timespec(a), timespec(hdr.ModTime)}
}

func timespec(t time.Time) unix.Timespec {
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// setTimes sets the times of name in dfd without following a symlink; with
// name "" it sets those of dfd itself.
func setTimes(dfd int, name string, ts [2]unix.Timespec) error {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if name == "" {
		flags = unix.AT_EMPTY_PATH
	}
	return unix.UtimesNanoAt(dfd, name, ts[:], flags)
}

// perm returns the permission bits of hdr, setuid/setgid/sticky included.
func perm(hdr *tar.Header) uint32 { return uint32(hdr.Mode) & 0o7777 }

// xattrs calls fn for each extended attribute recorded in hdr, leaving out
// overlayfs's own.
func xattrs(hdr *tar.Header, fn func(name, value string) error) error {
	if len(hdr.PAXRecords) == 0 {
		return nil
	}
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, paxXattr)
		if !ok || strings.HasPrefix(name, overlayXattr) {
			continue
		}
		if err := fn(name, v); err != nil {
			return err
		}
	}
	return nil
}

// procPath names base in the directory dfd through /proc/self/fd, for the
// calls that have no *at form (lsetxattr, llistxattr): the kernel resolves
// the descriptor's magic link to the directory itself, and the l* variants
// do not follow base if it is a symlink.
func procPath(dfd int, base string) string {
	return "/proc/self/fd/" + strconv.Itoa(dfd) + "/" + base
}

// setXattrsFd restores hdr's xattrs on an open file or directory.
func setXattrsFd(fd int, hdr *tar.Header) error {
	return xattrs(hdr, func(name, value string) error {
		return unix.Fsetxattr(fd, name, []byte(value), 0)
	})
}

// setXattrsAt restores hdr's xattrs on base in dfd, which may be a symlink
// or a device node (neither can be opened for the purpose safely).
func setXattrsAt(dfd int, base string, hdr *tar.Header) error {
	return xattrs(hdr, func(name, value string) error {
		return unix.Lsetxattr(procPath(dfd, base), name, []byte(value), 0)
	})
}

// chmodAt sets the mode of base in dfd, refusing to follow a symlink where
// the kernel can (fchmodat2, Linux 6.6); the callers only chmod what they
// just created, so the fallback is safe too.
func chmodAt(dfd int, base string, mode uint32) error {
	err := unix.Fchmodat(dfd, base, mode, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.EOPNOTSUPP || err == unix.ENOSYS {
		err = unix.Fchmodat(dfd, base, mode, 0)
	}
	return err
}

// readUmask returns the process's umask from /proc/self/status, or 0o7777
// ("unknown: always chmod") if it cannot be read. The umask is not changed to
// read it: that would race with other goroutines creating files.
func readUmask() uint32 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0o7777
	}
	_, rest, ok := bytes.Cut(data, []byte("\nUmask:\t"))
	if !ok {
		return 0o7777
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	m, err := strconv.ParseUint(string(line), 8, 32)
	if err != nil {
		return 0o7777
	}
	return uint32(m)
}
