package mount

import (
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// mountFlags are the options mount(2) takes as flags rather than data.
var mountFlags = map[string]uintptr{
	"ro":          unix.MS_RDONLY,
	"nosuid":      unix.MS_NOSUID,
	"nodev":       unix.MS_NODEV,
	"noexec":      unix.MS_NOEXEC,
	"sync":        unix.MS_SYNCHRONOUS,
	"dirsync":     unix.MS_DIRSYNC,
	"noatime":     unix.MS_NOATIME,
	"nodiratime":  unix.MS_NODIRATIME,
	"relatime":    unix.MS_RELATIME,
	"strictatime": unix.MS_STRICTATIME,
	"lazytime":    unix.MS_LAZYTIME,
	"nosymfollow": unix.MS_NOSYMFOLLOW,
	"remount":     unix.MS_REMOUNT,
	"bind":        unix.MS_BIND,
	"rbind":       unix.MS_BIND | unix.MS_REC,
}

// clearOnly are the defaults that options can only restate ("rw" undoes
// nothing on a fresh mount), so they set no flag and are not data either.
var clearOnly = map[string]bool{
	"rw": true, "suid": true, "dev": true, "exec": true, "async": true,
	"atime": true, "diratime": true, "norelatime": true, "defaults": true,
}

// propagationFlags need a mount(2) call of their own after the mount.
var propagationFlags = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// mountAttrs are the per-mount flags of the new mount API (fsmount's
// attr_flags); "ro" there makes the mount read-only, as mount(8) -o ro does.
var mountAttrs = map[string]int{
	"ro":          unix.MOUNT_ATTR_RDONLY,
	"nosuid":      unix.MOUNT_ATTR_NOSUID,
	"nodev":       unix.MOUNT_ATTR_NODEV,
	"noexec":      unix.MOUNT_ATTR_NOEXEC,
	"noatime":     unix.MOUNT_ATTR_NOATIME,
	"nodiratime":  unix.MOUNT_ATTR_NODIRATIME,
	"strictatime": unix.MOUNT_ATTR_STRICTATIME,
	"nosymfollow": unix.MOUNT_ATTR_NOSYMFOLLOW,
	"relatime":    unix.MOUNT_ATTR_RELATIME,
}

// parseOptions splits options into mount(2) flags, propagation flags and
// the rest, which is file-system data.
func parseOptions(opts []string) (flags, propagation uintptr, data []string) {
	for _, o := range opts {
		if f, ok := mountFlags[o]; ok {
			flags |= f
		} else if p, ok := propagationFlags[o]; ok {
			propagation |= p
		} else if !clearOnly[o] {
			data = append(data, o)
		}
	}
	return flags, propagation, data
}

// mountPlain mounts file systems that need nothing special (tmpfs, proc,
// sysfs, mqueue, ...).
func (m Mount) mountPlain(target string) error {
	flags, propagation, data := parseOptions(m.Options)
	if err := unix.Mount(m.Source, target, m.Type, flags, strings.Join(data, ",")); err != nil {
		return os.NewSyscallError("mount", err)
	}
	return setPropagation(target, propagation)
}

// mountBind bind-mounts Source. The kernel ignores per-mount flags on the
// bind itself, so "ro" and friends are applied to the new mount afterwards.
func (m Mount) mountBind(target string) error {
	flags, propagation, _ := parseOptions(m.Options)
	bindFlags := unix.MS_BIND | flags&unix.MS_REC
	if err := unix.Mount(m.Source, target, "", bindFlags, ""); err != nil {
		return os.NewSyscallError("mount", err)
	}
	attrs := flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	if attrs != 0 {
		if err := restrictBind(target, attrs, flags&unix.MS_REC != 0); err != nil {
			_ = Unmount(target)
			return err
		}
	}
	if err := setPropagation(target, propagation); err != nil {
		_ = Unmount(target)
		return err
	}
	return nil
}

// bindAttrs maps the mount(2) flags that apply per mount to mount_setattr's
// attributes; the atime ones are a field, cleared as a whole before setting.
var bindAttrs = []struct {
	flag  uintptr
	attr  uint64
	atime bool
}{
	{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY, false},
	{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID, false},
	{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV, false},
	{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC, false},
	{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME, false},
	{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW, false},
	{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME, true},
	{unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME, true},
	{unix.MS_RELATIME, unix.MOUNT_ATTR_RELATIME, true},
}

// restrictBind applies per-mount flags to a fresh bind mount. mount_setattr
// reaches every submount of a recursive bind; a bind remount (the fallback
// before Linux 5.12) only the top one.
func restrictBind(target string, flags uintptr, recursive bool) error {
	var attr unix.MountAttr
	for _, b := range bindAttrs {
		if flags&b.flag == 0 {
			continue
		}
		attr.Attr_set |= b.attr
		if b.atime {
			attr.Attr_clr |= unix.MOUNT_ATTR__ATIME
		}
	}
	atFlags := uint(0)
	if recursive {
		atFlags = unix.AT_RECURSIVE
	}
	err := unix.MountSetattr(unix.AT_FDCWD, target, atFlags, &attr)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.ENOSYS) {
		return os.NewSyscallError("mount_setattr", err)
	}
	err = unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|flags, "")
	return os.NewSyscallError("mount remount", err)
}

func setPropagation(target string, propagation uintptr) error {
	if propagation == 0 {
		return nil
	}
	if err := unix.Mount("", target, "", propagation, ""); err != nil {
		return os.NewSyscallError("mount propagation", err)
	}
	return nil
}
