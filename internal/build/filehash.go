package build

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"github.com/strata-containers/strata/internal/atomicfile"
)

// hashMemo remembers the content hashes of context files by their identity
// and change times (device, inode, size, mtime, ctime), as git's index
// does, so that a rebuild stats a tree instead of reading it. The ctime
// cannot be set back by a user, so a file rewritten in place with its old
// mtime is still read again. It is only a memo: a lost or stale file costs
// a re-read, never a wrong hash.
//
// On disk (<root>/build/filehash): one line per file, "<key> <sha256 hex>".
type hashMemo struct {
	path  string
	once  sync.Once // the file is read on first use: most steps never hash
	mu    sync.Mutex
	known map[string]string
	added int
}

// maxMemo bounds the memo; past it, only the last build's entries stay.
const maxMemo = 200_000

func loadHashMemo(path string) *hashMemo {
	return &hashMemo{path: path, known: map[string]string{}}
}

func (m *hashMemo) load() {
	data, err := os.ReadFile(m.path)
	if err != nil {
		return
	}
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if k, v, ok := bytes.Cut(line, []byte{' '}); ok && len(v) == 64 {
			m.known[string(k)] = string(v)
		}
	}
}

func memoKey(fi fs.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%x:%x:%x:%x.%x:%x.%x", st.Dev, st.Ino, st.Size,
		st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec), true
}

// fileHash returns the sha256 (hex) of the regular file at host.
func (m *hashMemo) fileHash(host string, fi fs.FileInfo) (string, error) {
	key, ok := memoKey(fi)
	if m != nil && ok {
		m.once.Do(m.load)
		m.mu.Lock()
		h, hit := m.known[key]
		m.mu.Unlock()
		if hit {
			return h, nil
		}
	}
	f, err := os.Open(host)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fh := sha256.New()
	if _, err := io.Copy(fh, f); err != nil {
		return "", err
	}
	h := hex.EncodeToString(fh.Sum(nil))
	if m != nil && ok {
		m.mu.Lock()
		m.known[key] = h
		m.added++
		m.mu.Unlock()
	}
	return h, nil
}

// save writes the memo back if this build added to it.
func (m *hashMemo) save() error {
	if m == nil || m.added == 0 {
		return nil
	}
	if len(m.known) > maxMemo {
		m.known = map[string]string{} // crude, and rare: start over
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	for k, v := range m.known {
		fmt.Fprintf(w, "%s %s\n", k, v)
	}
	w.Flush()
	return atomicfile.WriteFile(m.path, buf.Bytes(), 0o600)
}
