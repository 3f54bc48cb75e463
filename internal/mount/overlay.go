package mount

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/errdefs"
)

// pageSize bounds mount(2)'s data string, NUL included.
const pageSize = 4096

// errNoLowerdirPlus says the kernel rejected "lowerdir+" (before 6.8).
var errNoLowerdirPlus = errors.New(`overlay does not accept "lowerdir+"`)

// mountOverlay builds the overlay with fsopen/fsconfig so that each lower
// directory is its own fsconfig call and no option string has a size limit.
func (m Mount) mountOverlay(target string) error {
	err := m.fsmountOverlay(target)
	if errors.Is(err, errNoLowerdirPlus) || errors.Is(err, unix.ENOSYS) {
		return m.mountOverlayData(target)
	}
	return err
}

func (m Mount) fsmountOverlay(target string) error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	im, err := m.idmapper()
	if err != nil {
		return err
	}
	defer im.close()
	attrs, err := m.configure(fsfd, im)
	if err != nil {
		return err
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fsError(fsfd, "create", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return fsError(fsfd, "fsmount", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount to %s: %w", target, err)
	}
	return nil
}

// configure passes Source and Options to the fs context and returns the
// per-mount attributes (ro, nosuid, ...) that fsmount takes instead.
func (m Mount) configure(fsfd int, im *idmapper) (attrs int, err error) {
	if m.Source != "" {
		if err := unix.FsconfigSetString(fsfd, "source", m.Source); err != nil {
			return 0, fsError(fsfd, "source", err)
		}
	}
	firstLower := true
	for _, opt := range m.Options {
		key, value, hasValue := strings.Cut(opt, "=")
		if attr, ok := mountAttrs[opt]; ok {
			attrs |= attr
			continue
		}
		switch {
		case clearOnly[opt] || key+"=" == idmapOption:
		case key == "lowerdir" || key == "lowerdir+":
			for _, dir := range splitLowerDirs(value) {
				if dir, err = im.lower(dir); err != nil {
					return 0, err
				}
				err := unix.FsconfigSetString(fsfd, "lowerdir+", dir)
				if err != nil {
					return 0, lowerError(fsfd, dir, err, firstLower)
				}
				firstLower = false
			}
		case hasValue:
			err = unix.FsconfigSetString(fsfd, key, value)
		default:
			err = unix.FsconfigSetFlag(fsfd, key)
		}
		if err != nil {
			return 0, fsError(fsfd, opt, err)
		}
	}
	return attrs, nil
}

// lowerError tells a kernel that does not know "lowerdir+" (EINVAL on the
// first one, "Unknown parameter" in the log) from a bad lower directory.
func lowerError(fsfd int, dir string, err error, first bool) error {
	msgs := fsLog(fsfd)
	if first && errors.Is(err, unix.EINVAL) {
		if len(msgs) == 0 || strings.Contains(strings.Join(msgs, " "), "Unknown parameter") {
			return errNoLowerdirPlus
		}
	}
	return withLog(fmt.Errorf("fsconfig lowerdir+=%s: %w", dir, err), msgs)
}

// fsError adds what the kernel logged into the fs context (overlay explains
// some refusals there, e.g. an upper on an unsuitable file system) to the
// errno.
func fsError(fsfd int, step string, err error) error {
	return withLog(fmt.Errorf("fsconfig %s: %w", step, err), fsLog(fsfd))
}

func withLog(err error, msgs []string) error {
	if len(msgs) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(msgs, "; "))
}

// fsLog drains the messages the kernel queued on an fs context.
func fsLog(fsfd int) []string {
	var msgs []string
	buf := make([]byte, 1024)
	for {
		n, err := unix.Read(fsfd, buf)
		if err != nil || n <= 0 {
			return msgs
		}
		// Each message is "<level> <text>"; the level letter is noise.
		msg := strings.TrimSpace(string(buf[:n]))
		if len(msg) > 2 && msg[1] == ' ' {
			msg = msg[2:]
		}
		msgs = append(msgs, msg)
	}
}

// mountOverlayData is the mount(2) fallback for kernels without "lowerdir+".
func (m Mount) mountOverlayData(target string) error {
	if im, err := m.idmapper(); im != nil || err != nil {
		im.close()
		return errdefs.Unavailable("idmapped overlay lowers need fsconfig's \"lowerdir+\" (Linux 6.8)")
	}
	flags, _, data := parseOptions(m.Options)
	// mount(2) takes one lowerdir list: merge "lowerdir+" entries into it.
	var lowers []string
	var rest []string
	for _, opt := range data {
		if v, ok := strings.CutPrefix(opt, "lowerdir="); ok {
			lowers = append(lowers, v)
		} else if v, ok := strings.CutPrefix(opt, "lowerdir+="); ok {
			lowers = append(lowers, v)
		} else {
			rest = append(rest, opt)
		}
	}
	if len(lowers) > 0 {
		rest = append([]string{"lowerdir=" + strings.Join(lowers, ":")}, rest...)
	}
	s := strings.Join(rest, ",")
	if len(s)+1 > pageSize {
		return errdefs.Unavailable("overlay options take %d bytes, over the %d of mount(2), and this kernel lacks \"lowerdir+\" (needs Linux 6.8)", len(s)+1, pageSize)
	}
	source := m.Source
	if source == "" {
		source = "overlay"
	}
	if err := unix.Mount(source, target, "overlay", flags, s); err != nil {
		return os.NewSyscallError("mount", err)
	}
	return nil
}
