package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// header builds the tar header of the file name in dfd (stat st) as entry
// rel, and reports whether it is an opaque overlay directory. Sockets are
// no part of a layer: their header is nil.
func (t *treeWriter) header(dfd int, name, rel string, st *unix.Stat_t) (*tar.Header, bool, error) {
	hdr := &tar.Header{
		Name:    rel,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
		Format:  tar.FormatPAX,
	}
	typ := st.Mode & unix.S_IFMT
	if typ != unix.S_IFDIR && st.Nlink > 1 {
		id := fileID{dev: st.Dev, ino: st.Ino}
		if first, ok := t.links[id]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return hdr, false, nil
		}
		t.links[id] = rel
	}
	switch typ {
	case unix.S_IFREG:
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
	case unix.S_IFLNK:
		target, err := readlinkAt(dfd, name)
		if err != nil {
			return nil, false, fmt.Errorf("reading symlink %q: %w", rel, err)
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if typ == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil, false, nil
	}
	opaque, err := addXattrs(hdr, dfd, name)
	if err != nil {
		return nil, false, fmt.Errorf("reading xattrs of %q: %w", rel, err)
	}
	return hdr, opaque, nil
}

// addXattrs records the xattrs of name in dfd in hdr as PAX records and
// reports whether overlayfs marked it opaque.
func addXattrs(hdr *tar.Header, dfd int, name string) (bool, error) {
	xa, opaque, err := readXattrs(dfd, name)
	if err != nil || len(xa) == 0 {
		return opaque, err
	}
	hdr.PAXRecords = make(map[string]string, len(xa))
	for k, v := range xa {
		hdr.PAXRecords[paxXattr+k] = v
	}
	return opaque, nil
}

func readlinkAt(dfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// readXattrs returns the xattrs of name in dfd, without overlayfs's own,
// and whether overlayfs marked it opaque. A filesystem without xattrs has
// none.
func readXattrs(dfd int, name string) (map[string]string, bool, error) {
	p := procPath(dfd, name)
	names, err := listXattrs(p)
	if err != nil || len(names) == 0 {
		return nil, false, err
	}
	var xa map[string]string
	opaque := false
	for _, n := range names {
		v, err := getXattr(p, n)
		if err == unix.ENODATA {
			continue // removed since it was listed
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", n, err)
		}
		if strings.HasPrefix(n, overlayXattr) {
			opaque = opaque || (n == opaqueXattr && v == "y")
			continue
		}
		if xa == nil {
			xa = make(map[string]string)
		}
		xa[n] = v
	}
	return xa, opaque, nil
}

func listXattrs(p string) ([]string, error) {
	for {
		size, err := unix.Llistxattr(p, nil)
		if err == unix.ENOTSUP || size == 0 {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		buf := make([]byte, size)
		n, err := unix.Llistxattr(p, buf)
		if err == unix.ERANGE {
			continue // grew since the size was asked
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for _, b := range bytes.Split(buf[:n], []byte{0}) {
			if len(b) > 0 {
				names = append(names, string(b))
			}
		}
		return names, nil
	}
}

func getXattr(p, name string) (string, error) {
	for {
		size, err := unix.Lgetxattr(p, name, nil)
		if err != nil {
			return "", err
		}
		buf := make([]byte, size)
		n, err := unix.Lgetxattr(p, name, buf)
		if err == unix.ERANGE {
			continue
		}
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
}
