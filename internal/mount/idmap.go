package mount

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// IDMap is one range of a user namespace's uid or gid map: Size ids from
// ContainerID inside map to HostID outside.
type IDMap struct {
	ContainerID uint32 `json:"container_id"`
	HostID      uint32 `json:"host_id"`
	Size        uint32 `json:"size"`
}

// idmapOption is the overlay option that asks for idmapped lower
// directories: "idmap-lowers=<uid map>/<gid map>", each map
// "container:host:size". It never reaches the kernel.
const idmapOption = "idmap-lowers="

// IdmapLowersOption returns the overlay option that makes every lower
// directory appear shifted by uids/gids: a host file owned by HostID shows
// as ContainerID in the container's user namespace, so image layers stored
// once, owned by host root, serve every remapped container.
func IdmapLowersOption(uid, gid IDMap) string {
	return idmapOption + uid.String() + "/" + gid.String()
}

func (m IDMap) String() string { return fmt.Sprintf("%d:%d:%d", m.ContainerID, m.HostID, m.Size) }

// ParseIDMap parses "container:host:size".
func ParseIDMap(s string) (IDMap, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return IDMap{}, errdefs.Invalid("id map %q: want container:host:size", s)
	}
	var v [3]uint32
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return IDMap{}, errdefs.Invalid("id map %q: %w", s, err)
		}
		v[i] = uint32(n)
	}
	if v[2] == 0 {
		return IDMap{}, errdefs.Invalid("id map %q: empty range", s)
	}
	return IDMap{ContainerID: v[0], HostID: v[1], Size: v[2]}, nil
}

func parseIdmapOption(value string) (uid, gid IDMap, err error) {
	u, g, ok := strings.Cut(value, "/")
	if !ok {
		return uid, gid, errdefs.Invalid("overlay option %s%s: want <uid map>/<gid map>", idmapOption, value)
	}
	if uid, err = ParseIDMap(u); err != nil {
		return uid, gid, err
	}
	gid, err = ParseIDMap(g)
	return uid, gid, err
}

// idmapper clones lower directories into detached, idmapped mounts; they
// live as long as its file descriptors, which overlay no longer needs once
// it has taken its own private clones at fsconfig time.
type idmapper struct {
	userns int
	fds    []int
}

func newIdmapper(uid, gid IDMap) (*idmapper, error) {
	fd, err := UsernsFD(uid, gid)
	if err != nil {
		return nil, err
	}
	return &idmapper{userns: fd}, nil
}

// lower returns a path naming an idmapped clone of dir (dir itself
// without an idmapper).
func (im *idmapper) lower(dir string) (string, error) {
	if im == nil {
		return dir, nil
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return "", fmt.Errorf("open_tree %s: %w", dir, err)
	}
	im.fds = append(im.fds, fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(im.userns)}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return "", fmt.Errorf("idmapping %s: %w", dir, err)
	}
	return fmt.Sprintf("/proc/self/fd/%d", fd), nil
}

func (im *idmapper) close() {
	if im == nil {
		return
	}
	for _, fd := range im.fds {
		unix.Close(fd)
	}
	unix.Close(im.userns)
}

// UsernsFD returns an open file descriptor of a new user namespace with the
// given maps. A user namespace lives only as long as something holds it: a
// child is cloned into it stopped at its first instruction (ptrace's stop
// at exec, as containerd does), its namespace file opened, and the child
// killed, so nothing of the child ever runs.
func UsernsFD(uid, gid IDMap) (int, error) {
	// The tracer is the forking thread: keep kill and wait on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	attr := &os.ProcAttr{Sys: &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: int(uid.ContainerID), HostID: int(uid.HostID), Size: int(uid.Size)}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: int(gid.ContainerID), HostID: int(gid.HostID), Size: int(gid.Size)}},
		Ptrace:      true,
		Pdeathsig:   unix.SIGKILL,
	}}
	p, err := os.StartProcess("/proc/self/exe", []string{"userns-holder"}, attr)
	if err != nil {
		return -1, fmt.Errorf("creating user namespace %s: %w", uid, err)
	}
	defer func() {
		_ = p.Kill()
		_, _ = p.Wait()
	}()
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", p.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening user namespace %s: %w", uid, err)
	}
	return fd, nil
}

// idmapper returns the idmapper m's options ask for, nil if none.
func (m Mount) idmapper() (*idmapper, error) {
	for _, opt := range m.Options {
		if v, ok := strings.CutPrefix(opt, idmapOption); ok {
			uid, gid, err := parseIdmapOption(v)
			if err != nil {
				return nil, err
			}
			return newIdmapper(uid, gid)
		}
	}
	return nil, nil
}
