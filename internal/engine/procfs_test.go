package engine

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestReadProcSelf(t *testing.T) {
	p, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != os.Getpid() || p.PPID != os.Getppid() || p.UID != os.Getuid() || !slices.Equal(p.Args, os.Args) {
		t.Fatalf("readProc(self) = %+v", p)
	}
	tc := newTopContext()
	if started := tc.started(p); started.After(time.Now()) || time.Since(started) > 24*time.Hour {
		t.Fatalf("this test started at %v?", started)
	}
	if row := tc.efRow(p); len(row) != 8 || row[1] != strconv.Itoa(p.PID) {
		t.Fatalf("-ef row %q", row)
	}
	if row := tc.auxRow(p); len(row) != 11 {
		t.Fatalf("aux row %q", row)
	}
}

func TestTTYName(t *testing.T) {
	for nr, want := range map[uint64]string{0: "?", 136<<8 | 3: "pts/3", 137<<8 | 1: "pts/257", 4<<8 | 1: "tty1", 1<<20 | 136<<8: "pts/256"} {
		if got := ttyName(nr); got != want {
			t.Errorf("ttyName(%#x) = %q, want %q", nr, got, want)
		}
	}
}
