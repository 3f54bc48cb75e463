package cgroups

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/strata-containers/strata/internal/errdefs"
)

// The extra measurements and limits of a cgroup that `stats`, `update` and
// the OOM record need, beside the basic ones in v1.go and v2.go.

// unlimitedV1 is the smallest value a v1 memory limit reads as when it is
// not set: the kernel reports PAGE_COUNTER_MAX pages, rounded to a page.
const unlimitedV1 = 1 << 62

// blkioWeightFiles are the v1 files that take a block I/O weight, in order
// of preference: CFQ's (gone since Linux 5.0) and BFQ's.
var blkioWeightFiles = []string{"blkio.weight", "blkio.bfq.weight"}

// BlkioWeightSupported reports whether this host can weight block I/O: a
// v1 blkio hierarchy with a weight file, or a v2 io controller.
func BlkioWeightSupported() bool {
	hs, err := Hierarchies()
	if err != nil {
		return false
	}
	for _, h := range hs {
		if h.Version == 2 {
			if avail, err := readFile(h.Mountpoint, "cgroup.controllers"); err == nil && strings.Contains(" "+avail+" ", " io ") {
				return true
			}
			continue
		}
		// The root has no blkio.bfq.weight of its own, only BFQ's
		// statistics; its children get the weight file.
		for _, f := range []string{"blkio.weight", "blkio.bfq.io_service_bytes"} {
			if _, err := os.Stat(filepath.Join(h.Mountpoint, f)); err == nil {
				return true
			}
		}
	}
	return false
}

// setBlockIO writes the block I/O weight where the kernel has a file for
// it; without one the weight cannot be applied and is an error of class
// ErrUnavailable.
func (m *v1) setBlockIO(b *specs.LinuxBlockIO) error {
	if b == nil || b.Weight == nil || *b.Weight == 0 {
		return nil
	}
	dir, ok := m.dirs["blkio"]
	if !ok {
		return errdefs.Unavailable("cgroup v1 controller blkio is not mounted")
	}
	for _, f := range blkioWeightFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return writeFile(dir, f, strconv.FormatUint(uint64(*b.Weight), 10))
		}
	}
	return writeFile(dir, blkioWeightFiles[0], strconv.FormatUint(uint64(*b.Weight), 10))
}

// v2BlockIO translates a block I/O weight into the io controller's file.
func v2BlockIO(b *specs.LinuxBlockIO) [][2]string {
	if b == nil || b.Weight == nil || *b.Weight == 0 {
		return nil
	}
	// io.weight takes 1-10000; blkio weights are 10-1000.
	w := 1 + (uint64(*b.Weight)-10)*9999/990
	return [][2]string{{"io.weight", "default " + strconv.FormatUint(w, 10)}}
}

// moreStats fills the limit, block I/O and OOM fields of s.
func (m *v1) moreStats(s *Stats) error {
	var err error
	if dir, ok := m.dirs["memory"]; ok {
		if s.MemoryLimit, err = optUint(dir, "memory.limit_in_bytes"); err != nil {
			return err
		}
		if s.MemoryLimit >= unlimitedV1 {
			s.MemoryLimit = 0
		}
		s.MemoryCache = keyOr0(dir, "memory.stat", "total_inactive_file")
		s.OOMKills = keyOr0(dir, "memory.oom_control", "oom_kill")
	}
	if dir, ok := m.dirs["pids"]; ok {
		s.PidsLimit, _ = optUint(dir, "pids.max")
	}
	if dir, ok := m.dirs["blkio"]; ok {
		s.BlkioRead, s.BlkioWrite = blkioV1(dir)
	}
	return nil
}

func (m *v2) moreStats(s *Stats) error {
	var err error
	if s.MemoryLimit, err = optUint(m.dir, "memory.max"); err != nil {
		return err
	}
	s.PidsLimit, _ = optUint(m.dir, "pids.max")
	s.MemoryCache = keyOr0(m.dir, "memory.stat", "inactive_file")
	s.OOMKills = keyOr0(m.dir, "memory.events", "oom_kill")
	s.BlkioRead, s.BlkioWrite = ioV2(m.dir)
	return nil
}

// keyOr0 reads a key of a flat keyed file; a missing file or key is 0.
func keyOr0(dir, name, key string) uint64 {
	n, _ := readKey(dir, name, key)
	return n
}

// blkioV1 sums the bytes read and written over every device
// (blkio.throttle.io_service_bytes_recursive: "8:0 Read 4096" lines).
func blkioV1(dir string) (read, write uint64) {
	f, err := os.Open(filepath.Join(dir, "blkio.throttle.io_service_bytes_recursive"))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		n, _ := strconv.ParseUint(fields[2], 10, 64)
		switch fields[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}

// ioV2 sums rbytes and wbytes over every device of io.stat.
func ioV2(dir string) (read, write uint64) {
	data, err := os.ReadFile(filepath.Join(dir, "io.stat"))
	if errors.Is(err, os.ErrNotExist) || err != nil {
		return 0, 0
	}
	for _, field := range strings.Fields(string(data)) {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		switch k {
		case "rbytes":
			read += n
		case "wbytes":
			write += n
		}
	}
	return read, write
}
