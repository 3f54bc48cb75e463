// Package rootfs writes small root filesystems as tar streams, for the tests,
// the demo and the benchmarks. There is no registry to pull a base image
// from here, so strata makes its `busybox` image from Debian's busybox-static:
// the static binary, one symlink per applet, and the /etc files a container
// needs to resolve users.
package rootfs

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"
)

// DefaultBusybox is where Debian's busybox-static installs the binary.
const DefaultBusybox = "/bin/busybox"

// Epoch is the modification time of every entry, so that the same busybox
// binary always yields the same layer digest and image ID.
var Epoch = time.Unix(0, 0).UTC()

// CheckBusybox returns an error unless path is a statically linked busybox,
// which a container can run without any library from the host.
func CheckBusybox(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("busybox at %s: %w (install Debian's busybox-static)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("busybox at %s is dynamically linked: install Debian's busybox-static", path)
		}
	}
	return nil
}

// Applets lists the applet paths the binary at busybox provides
// ("bin/sh", "usr/bin/awk", ...), relative to the root.
func Applets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	var applets []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.Trim(strings.TrimSpace(line), "/")
		if line == "" || line == "bin/busybox" || line == "linuxrc" {
			continue
		}
		applets = append(applets, line)
	}
	sort.Strings(applets)
	return applets, nil
}

// WriteBusybox writes a busybox root filesystem as an uncompressed tar to w.
func WriteBusybox(w io.Writer, busybox string) error {
	if err := CheckBusybox(busybox); err != nil {
		return err
	}
	applets, err := Applets(busybox)
	if err != nil {
		return err
	}
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("reading busybox: %w", err)
	}
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	for _, d := range []struct {
		name string
		mode int64
	}{
		{"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"home", 0o755}, {"proc", 0o555},
		{"root", 0o700}, {"sbin", 0o755}, {"sys", 0o555}, {"tmp", 0o1777}, {"usr", 0o755},
		{"usr/bin", 0o755}, {"usr/sbin", 0o755}, {"var", 0o755}, {"var/spool", 0o755},
		{"var/spool/mail", 0o755}, {"var/www", 0o755},
	} {
		if err := writeDir(tw, d.name, d.mode); err != nil {
			return err
		}
		dirs[d.name] = true
	}
	if err := writeFile(tw, "bin/busybox", 0o755, bin); err != nil {
		return err
	}
	for _, a := range applets {
		if dir := path.Dir(a); !dirs[dir] {
			return fmt.Errorf("applet %s is in %s, which the rootfs lacks", a, dir)
		}
		if err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeSymlink, Name: a, Linkname: "/bin/busybox",
			Mode: 0o777, ModTime: Epoch, Format: tar.FormatPAX,
		}); err != nil {
			return err
		}
	}
	for _, f := range etcFiles() {
		if err := writeFile(tw, f.name, f.mode, []byte(f.content)); err != nil {
			return err
		}
	}
	return tw.Close()
}

type etcFile struct {
	name    string
	mode    int64
	content string
}

// etcFiles mirrors the accounts of Docker Hub's busybox image, so that
// `--user nobody` and `--user 1000` behave the same in both.
func etcFiles() []etcFile {
	return []etcFile{
		{"etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n" +
			"daemon:x:1:1:daemon:/usr/sbin:/bin/false\n" +
			"bin:x:2:2:bin:/bin:/bin/false\n" +
			"sys:x:3:3:sys:/dev:/bin/false\n" +
			"sync:x:4:100:sync:/bin:/bin/sync\n" +
			"mail:x:8:8:mail:/var/spool/mail:/bin/false\n" +
			"www-data:x:33:33:www-data:/var/www:/bin/false\n" +
			"operator:x:37:37:Operator:/var:/bin/false\n" +
			"nobody:x:65534:65534:nobody:/home:/bin/false\n"},
		{"etc/group", 0o644, "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\n" +
			"disk:x:6:\nlp:x:7:\nmail:x:8:\nkmem:x:9:\nwheel:x:10:root\ncdrom:x:11:\ndialout:x:18:\n" +
			"floppy:x:19:\nvideo:x:28:\naudio:x:29:\ntape:x:32:\nwww-data:x:33:\noperator:x:37:\n" +
			"utmp:x:43:\nplugdev:x:46:\nstaff:x:50:\nlock:x:54:\nnetdev:x:82:\nusers:x:100:\nnogroup:x:65534:\n"},
		{"etc/shadow", 0o600, "root:*:10933:0:99999:7:::\nnobody:*:10933:0:99999:7:::\n"},
		{"etc/hostname", 0o644, ""},
		{"etc/hosts", 0o644, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
		{"etc/resolv.conf", 0o644, ""},
	}
}

func writeDir(tw *tar.Writer, name string, mode int64) error {
	return tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: Epoch, Format: tar.FormatPAX,
	})
}

// writeFile adds a regular file entry with the fixed Epoch mtime.
func writeFile(tw *tar.Writer, name string, mode int64, content []byte) error {
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(content)),
		ModTime: Epoch, Format: tar.FormatPAX,
	}); err != nil {
		return err
	}
	_, err := io.Copy(tw, bytes.NewReader(content))
	return err
}

// File is one regular file of a generated layer.
type File struct {
	Name    string
	Mode    int64
	Content []byte
}

// WriteLayer writes files (and their parent directories) as a tar to w;
// tests use it to make small layers with known content.
func WriteLayer(w io.Writer, files []File) error {
	tw := tar.NewWriter(w)
	seen := map[string]bool{}
	for _, f := range files {
		var parents []string
		for d := path.Dir(f.Name); d != "." && d != "/" && !seen[d]; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
			seen[d] = true
		}
		for _, d := range parents {
			if err := writeDir(tw, d, 0o755); err != nil {
				return err
			}
		}
		if f.Mode == 0 {
			f.Mode = 0o644
		}
		if err := writeFile(tw, f.Name, f.Mode, f.Content); err != nil {
			return err
		}
	}
	return tw.Close()
}

// ErrNoBusybox is returned by Find when no usable busybox is installed.
var ErrNoBusybox = errors.New("no static busybox at " + DefaultBusybox + " (apt-get install busybox-static)")

// Find returns the path of a usable static busybox, or ErrNoBusybox.
func Find() (string, error) {
	if CheckBusybox(DefaultBusybox) != nil {
		return "", ErrNoBusybox
	}
	return DefaultBusybox, nil
}
