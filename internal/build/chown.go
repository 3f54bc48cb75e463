package build

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// resolveChown turns --chown's user[:group] into ids, looking names up in
// the rootfs' /etc/passwd and /etc/group (opened inside it). A user alone
// also gives the group: the user's id, as Docker does.
func resolveChown(rootfs, spec string) (int, int, error) {
	if spec == "" {
		return 0, 0, nil
	}
	user, group, hasGroup := strings.Cut(spec, ":")
	uid, err := lookupID(rootfs, "/etc/passwd", user)
	if err != nil {
		return 0, 0, errdefs.Invalid("unable to convert uid/gid chown string to host mapping: can't find uid for user %s: %w", user, err)
	}
	if !hasGroup {
		return uid, uid, nil
	}
	gid, err := lookupID(rootfs, "/etc/group", group)
	if err != nil {
		return 0, 0, errdefs.Invalid("unable to convert uid/gid chown string to host mapping: can't find gid for group %s: %w", group, err)
	}
	return uid, gid, nil
}

// lookupID returns name's id from a passwd-style file (the third field);
// a number is its own id.
func lookupID(rootfs, file, name string) (int, error) {
	if name == "" {
		return 0, errors.New("empty name")
	}
	if n, err := strconv.Atoi(name); err == nil {
		if n < 0 {
			return 0, errors.New("negative id")
		}
		return n, nil
	}
	f, err := openInRoot(rootfs, file)
	if err != nil {
		return 0, errors.New("no such user: " + name)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 && fields[0] == name {
			if id, err := strconv.Atoi(fields[2]); err == nil {
				return id, nil
			}
		}
	}
	return 0, errors.New("no such user: " + name)
}

func openInRoot(rootfs, p string) (*os.File, error) {
	root, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(root)
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(root, strings.TrimPrefix(p, "/"), &how)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), p), nil
}
