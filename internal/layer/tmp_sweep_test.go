package layer

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// TestNewTmpUnderSweepers: work dirs are started while many sweepers (one
// per CLI process in real life) run, and none gives up. Before lock files
// were renamed into place once held, sweepers taking fresh locks made some
// of 2,400 starts fail five times in a row.
func TestNewTmpUnderSweepers(t *testing.T) {
	dir := t.TempDir()
	var fails, ok atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = sweepTmp(context.Background(), dir)
			}
		}()
	}
	var owners sync.WaitGroup
	for i := 0; i < 8; i++ {
		owners.Add(1)
		go func() {
			defer owners.Done()
			for j := 0; j < 300; j++ {
				e, err := newTmp(dir)
				if err != nil {
					fails.Add(1)
					continue
				}
				ok.Add(1)
				e.release()
			}
		}()
	}
	owners.Wait()
	close(stop)
	wg.Wait()
	if fails.Load() != 0 {
		t.Errorf("%d of %d work dirs could not be started", fails.Load(), fails.Load()+ok.Load())
	}
}
