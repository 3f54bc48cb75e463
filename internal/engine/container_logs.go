package engine

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/strata-containers/strata/internal/logs"
)

// LogsOptions are the options of `logs`.
type LogsOptions struct {
	Follow     bool
	Tail       int // entries from the end; negative means all
	Since      time.Time
	Until      time.Time
	Timestamps bool
}

// ContainerLogs copies a container's log to stdout and stderr. Following
// ends when the container stops (or ctx ends).
func (e *Engine) ContainerLogs(ctx context.Context, ref string, opts LogsOptions, stdout, stderr io.Writer) error {
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	if opts.Follow && c.Running() {
		go func() {
			waitMonitor(ctx, c.State, -1)
			close(done)
		}()
	} else {
		close(done)
	}
	return followLog(ctx, c.LogPath, opts, done, stdout, stderr)
}

// followLog writes the log's entries to stdout or stderr by stream, each
// prefixed with its time in docker's format when asked to.
func followLog(ctx context.Context, path string, opts LogsOptions, done <-chan struct{}, stdout, stderr io.Writer) error {
	ro := logs.ReadOptions{Tail: opts.Tail, Since: opts.Since, Until: opts.Until, Follow: opts.Follow, Done: done}
	return logs.Read(ctx, path, ro, func(en logs.Entry) error {
		w := stdout
		if en.Stream == "stderr" {
			w = stderr
		}
		var err error
		if opts.Timestamps {
			_, err = fmt.Fprintf(w, "%s %s", en.Time.UTC().Format("2006-01-02T15:04:05.000000000Z07:00"), en.Log)
		} else {
			_, err = io.WriteString(w, en.Log)
		}
		return err
	})
}
