package distribution

import (
	"io"
	"time"
)

// progressInterval is the least time between two byte-count reports of one
// blob: a terminal cannot show more, and a fast loopback pull would
// otherwise call Progress once per read.
const progressInterval = 100 * time.Millisecond

// progressReader reports how many bytes of a blob have been read through
// it as Progress{ID, Status, Current, Total}, throttled to one report per
// progressInterval plus one at the end. It costs a clock read per Read and
// allocates nothing.
type progressReader struct {
	rc     io.ReadCloser
	report func(Progress)
	id     string
	status string
	total  int64
	n      int64
	last   time.Time
	ended  bool
}

// countBytes wraps rc so that it reports bytes read under status, or
// returns rc itself when nobody asked for byte counts (the wrapper would
// hide an *os.File from io.Copy's sendfile/splice paths for nothing).
func countBytes(rc io.ReadCloser, report func(Progress), wanted bool, id, status string, total int64) io.ReadCloser {
	if report == nil || !wanted {
		return rc
	}
	return &progressReader{rc: rc, report: report, id: id, status: status, total: total}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	p.n += int64(n)
	switch {
	case err == io.EOF && !p.ended:
		// The last count always goes out, so a bar ends full.
		p.ended = true
		p.report(Progress{ID: p.id, Status: p.status, Current: p.n, Total: p.total})
	case n > 0:
		if now := time.Now(); now.Sub(p.last) >= progressInterval {
			p.last = now
			p.report(Progress{ID: p.id, Status: p.status, Current: p.n, Total: p.total})
		}
	}
	return n, err
}

func (p *progressReader) Close() error { return p.rc.Close() }
