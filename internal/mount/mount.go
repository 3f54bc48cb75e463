// Package mount describes mounts as values and performs them.
//
// The layer store returns []Mount instead of mounting, so that its logic is
// testable without privileges and the runtime (or a test) decides where and
// when to mount. Overlay mounts use the kernel's fsopen/fsconfig interface and
// add each lower directory separately ("lowerdir+"), so an image of any depth
// mounts without hitting the one-page limit of mount(2)'s data string.
package mount

// Mount is one mount: what mount(8) would take as -t Type -o Options Source.
// For overlay, Options holds "lowerdir=a:b:c" (topmost first), "upperdir=",
// "workdir=" and plain flags; bind mounts have Type "bind".
type Mount struct {
	Type    string   `json:"type"`
	Source  string   `json:"source"`
	Options []string `json:"options,omitempty"`
}

// Mount mounts m on target (which must exist).
func (m Mount) Mount(target string) error { panic("unimplemented") }

// All mounts ms on target in order, unmounting what it mounted on failure.
func All(ms []Mount, target string) error { panic("unimplemented") }

// Unmount unmounts target, detaching lazily if it is busy (MNT_DETACH), and
// treats "not mounted" as success so cleanup paths can call it blindly.
func Unmount(target string) error { panic("unimplemented") }

// IsMountPoint reports whether path is a mount point (from /proc/self/mountinfo).
func IsMountPoint(path string) (bool, error) { panic("unimplemented") }
