package lockfile

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestExcludesGoroutines checks that the lock orders goroutines of one
// process: a counter incremented non-atomically under it stays exact.
func TestExcludesGoroutines(t *testing.T) {
	l, err := New(filepath.Join(t.TempDir(), "lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	counter := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				l.Lock()
				v := counter
				time.Sleep(0)
				counter = v + 1
				l.Unlock()
				l.RLock()
				_ = counter
				l.RUnlock()
			}
		}()
	}
	wg.Wait()
	if counter != 4000 {
		t.Fatalf("counter %d, want 4000: the lock let two writers in", counter)
	}
}

// TestExcludesProcesses holds the lock in a child process (flock(1) is not
// used: the child is this test binary) and checks that TryLock fails until
// the child exits, and that the kernel frees the lock when the holder dies.
func TestExcludesProcesses(t *testing.T) {
	if os.Getenv("LOCKFILE_HOLD") != "" {
		l, err := New(os.Getenv("LOCKFILE_HOLD"))
		if err != nil {
			os.Exit(2)
		}
		l.Lock()
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Hour)
	}
	path := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestExcludesProcesses$")
	cmd.Env = append(os.Environ(), "LOCKFILE_HOLD="+path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child did not lock: %q %v", buf, err)
	}
	l, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.TryLock() {
		t.Fatal("TryLock succeeded while another process holds the lock")
	}
	cmd.Process.Kill()
	cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.LockContext(ctx); err != nil {
		t.Fatalf("lock not released by the dead holder: %v", err)
	}
	l.Unlock()
}

// TestLinked: a lock whose file was removed, or replaced by a new file of
// the same name, is no longer linked.
func TestLinked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.lock")
	l, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.Linked() {
		t.Fatal("a fresh lock is not linked")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if l.Linked() {
		t.Fatal("a removed lock file is still linked")
	}
	other, err := New(path) // recreates a file at the same path
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if l.Linked() {
		t.Fatal("a lock whose path names another file is still linked")
	}
	if !other.Linked() {
		t.Fatal("the new lock is not linked")
	}
}

// TestCreateLocked: the lock file appears held, so another opener cannot
// take it until its owner lets go; an existing path is refused.
func TestCreateLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.lock")
	owner, err := CreateLocked(path)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.TryLock() {
		t.Fatal("a lock made by CreateLocked could be taken from its owner")
	}
	if _, err := CreateLocked(path); err == nil {
		t.Fatal("CreateLocked over an existing file succeeded")
	}
	owner.Unlock()
	owner.Close()
	if !other.TryLock() {
		t.Fatal("the lock is still held after its owner let go")
	}
	other.Unlock()
}
