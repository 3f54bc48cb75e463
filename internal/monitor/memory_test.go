package monitor

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDropExePages: dropping the executable's pages really lowers this
// process's resident set, and the process goes on running the code it
// dropped (it is mapped again from the page cache).
func TestDropExePages(t *testing.T) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if len(cleanExeMappings(exe)) == 0 {
		t.Fatalf("no clean read-only mapping of %s found in /proc/self/smaps", exe)
	}
	before := exeResident(t, exe)
	dropExePages()
	after := exeResident(t, exe)
	if after >= before {
		t.Fatalf("resident kB of %s: %d before, %d after dropping", exe, before, after)
	}
	// Code that was dropped still runs.
	if got := strconv.Itoa(42); got != "42" {
		t.Fatal(got)
	}
}

// exeResident sums the Rss of exe's mappings in /proc/self/smaps, in kB.
func exeResident(t *testing.T, exe string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, inExe := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			inExe = len(fields) >= 6 && fields[5] == exe
		case inExe && len(fields) >= 2 && fields[0] == "Rss:":
			kb, _ := strconv.Atoi(fields[1])
			total += kb
		}
	}
	return total
}
