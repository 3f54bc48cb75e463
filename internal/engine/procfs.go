package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// procInfo is what top shows of one process, read from /proc/<pid>.
type procInfo struct {
	PID, PPID  int
	UID        int
	State      string
	TTY        uint64 // tty_nr of /proc/<pid>/stat
	CPUTicks   uint64 // user + system time in clock ticks
	StartTicks uint64 // start time in clock ticks after boot
	VSize      uint64 // bytes
	RSSPages   uint64
	Comm       string
	Args       []string
}

// clockTicks is USER_HZ, 100 on every Linux architecture strata runs on.
const clockTicks = 100

// readProc reads /proc/<pid>; a process gone meanwhile is an error the
// caller skips.
func readProc(pid int) (procInfo, error) {
	p := procInfo{PID: pid}
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return p, err
	}
	// comm is parenthesised and may hold spaces and parentheses itself.
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return p, fmt.Errorf("parsing %s/stat", dir)
	}
	p.Comm = string(stat[open+1 : end])
	f := strings.Fields(string(stat[end+1:])) // f[0] is field 3, state
	if len(f) < 22 {
		return p, fmt.Errorf("parsing %s/stat", dir)
	}
	num := func(i int) uint64 { n, _ := strconv.ParseUint(f[i-3], 10, 64); return n }
	p.State, p.PPID, p.TTY = f[0], int(num(4)), num(7)
	p.CPUTicks, p.StartTicks = num(14)+num(15), num(22)
	p.VSize, p.RSSPages = num(23), num(24)
	if cmdline, err := os.ReadFile(dir + "/cmdline"); err == nil && len(cmdline) > 0 {
		p.Args = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	}
	p.UID = procUID(dir)
	return p, nil
}

// procUID is the real uid of /proc/<pid>/status ("Uid:\t0\t0\t0\t0").
func procUID(dir string) int {
	f, err := os.Open(dir + "/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			if fs := strings.Fields(rest); len(fs) > 0 {
				uid, _ := strconv.Atoi(fs[0])
				return uid
			}
		}
	}
	return -1
}

// bootTime is when the host booted (btime of /proc/stat).
func bootTime() time.Time {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			sec, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return time.Unix(sec, 0)
		}
	}
	return time.Time{}
}

// userNames maps uids to names from the host's /etc/passwd, as the host's
// ps would show them.
func userNames() map[int]string {
	names := map[int]string{}
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return names
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		if uid, err := strconv.Atoi(f[2]); err == nil {
			if _, seen := names[uid]; !seen {
				names[uid] = f[0]
			}
		}
	}
	return names
}

// ttyName names a tty_nr as ps does ("pts/0"), "?" for none.
func ttyName(nr uint64) string {
	major := (nr >> 8) & 0xfff
	minor := (nr & 0xff) | ((nr >> 12) & 0xfff00)
	switch {
	case nr == 0:
		return "?"
	case major >= 136 && major <= 143:
		return fmt.Sprintf("pts/%d", minor+(major-136)*256)
	case major == 4 && minor < 64:
		return fmt.Sprintf("tty%d", minor)
	}
	return "?"
}

// memTotal is the host's memory in bytes (MemTotal of /proc/meminfo).
func memTotal() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
