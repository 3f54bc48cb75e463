package spec

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// User is a resolved container user.
type User struct {
	UID, GID       uint32
	AdditionalGids []uint32
	Home           string
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// ResolveUser resolves a --user value ("", "name", "uid", "name:group",
// "uid:gid") against the /etc/passwd and /etc/group of the mounted rootfs
// as Docker does: the default is root; a user found in /etc/passwd brings
// its primary group and home, and every group listing it by name is added
// as a supplementary group. The files are read with RESOLVE_IN_ROOT, so a
// symlink in the image cannot make the engine read a host file.
func ResolveUser(rootfs, user string) (User, error) {
	users, err := readPasswd(rootfs)
	if err != nil {
		return User{}, err
	}
	groups, err := readGroups(rootfs)
	if err != nil {
		return User{}, err
	}
	name, group, hasGroup := strings.Cut(user, ":")
	if name == "" {
		name = "0"
	}
	u, err := findUser(users, name)
	if err != nil {
		return User{}, err
	}
	if hasGroup {
		g, err := findGroup(groups, group)
		if err != nil {
			return User{}, err
		}
		u.gid = g.gid
	}
	res := User{UID: u.uid, GID: u.gid, Home: u.home}
	if res.Home == "" {
		res.Home = "/"
	}
	if !hasGroup && u.name != "" {
		res.AdditionalGids = memberGroups(groups, u.name, u.gid)
	}
	return res, nil
}

func findUser(users []passwdEntry, name string) (passwdEntry, error) {
	id, numErr := strconv.ParseUint(name, 10, 32)
	for _, u := range users {
		if u.name == name || (numErr == nil && u.uid == uint32(id)) {
			return u, nil
		}
	}
	if numErr == nil {
		return passwdEntry{uid: uint32(id)}, nil
	}
	return passwdEntry{}, errdefs.NotFound("unable to find user %s: no matching entries in passwd file", name)
}

func findGroup(groups []groupEntry, name string) (groupEntry, error) {
	id, numErr := strconv.ParseUint(name, 10, 32)
	for _, g := range groups {
		if g.name == name || (numErr == nil && g.gid == uint32(id)) {
			return g, nil
		}
	}
	if numErr == nil {
		return groupEntry{gid: uint32(id)}, nil
	}
	return groupEntry{}, errdefs.NotFound("unable to find group %s: no matching entries in group file", name)
}

// memberGroups lists the gids of the groups that name the user, with its
// primary group first, as Docker reports them.
func memberGroups(groups []groupEntry, user string, primary uint32) []uint32 {
	gids := []uint32{primary}
	for _, g := range groups {
		for _, m := range g.members {
			if m == user && g.gid != primary {
				gids = append(gids, g.gid)
			}
		}
	}
	return gids
}

// WithUser sets the resolved user, and HOME when the environment has none.
func WithUser(u User) Opt {
	return func(s *specs.Spec) error {
		s.Process.User = specs.User{UID: u.UID, GID: u.GID, AdditionalGids: u.AdditionalGids}
		for _, kv := range s.Process.Env {
			if strings.HasPrefix(kv, "HOME=") {
				return nil
			}
		}
		if u.Home != "" {
			s.Process.Env = append(s.Process.Env, "HOME="+u.Home)
		}
		return nil
	}
}

func readPasswd(rootfs string) ([]passwdEntry, error) {
	var out []passwdEntry
	err := readColonFile(rootfs, "/etc/passwd", func(f []string) {
		if len(f) < 6 {
			return
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 == nil && err2 == nil {
			out = append(out, passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid), home: f[5]})
		}
	})
	return out, err
}

func readGroups(rootfs string) ([]groupEntry, error) {
	var out []groupEntry
	err := readColonFile(rootfs, "/etc/group", func(f []string) {
		if len(f) < 3 {
			return
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return
		}
		g := groupEntry{name: f[0], gid: uint32(gid)}
		if len(f) > 3 && f[3] != "" {
			g.members = strings.Split(f[3], ",")
		}
		out = append(out, g)
	})
	return out, err
}

// readColonFile calls fn with the fields of each line of the file at name
// inside rootfs; a missing file has no lines.
func readColonFile(rootfs, name string, fn func([]string)) error {
	f, err := openInRoot(rootfs, name)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s of the container: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
	return sc.Err()
}

// openInRoot opens name as if rootfs were "/": absolute symlinks and ".."
// stay inside it.
func openInRoot(rootfs, name string) (*os.File, error) {
	dir, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, strings.TrimPrefix(name, "/"), &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	})
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), filepath.Join(rootfs, name))
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, errdefs.Invalid("%s is not a regular file", name)
	}
	return f, nil
}
