package archive

import (
	"context"
	"fmt"
	"io"
	"os"
)

// WriteEntry writes the file name of the directory dir to w as a tar (no
// whiteout conversion) whose first entry is named as, followed, for a
// directory, by everything below it, named as/<path>. It reads through
// descriptors only and never follows a symlink: a caller that resolved dir
// safely (inside a container's rootfs, say) reads nothing outside it, even
// while the tree changes. `cp` uses it.
func WriteEntry(ctx context.Context, w io.Writer, dir *os.File, name, as string) error {
	t := newTreeWriter(w, false)
	if err := t.walkEntry(ctx, dir, name, as); err != nil {
		copyBufs.Put(&t.buf)
		return fmt.Errorf("writing tar of %q: %w", as, err)
	}
	return t.close()
}

// WriteContents is WriteEntry for what the directory dir holds, without an
// entry for dir itself: its entries are named as/<path>, or <path> when as
// is "".
func WriteContents(ctx context.Context, w io.Writer, dir *os.File, as string) error {
	t := newTreeWriter(w, false)
	if err := t.walk(ctx, dir, as); err != nil {
		copyBufs.Put(&t.buf)
		return fmt.Errorf("writing tar of %q: %w", as, err)
	}
	return t.close()
}
