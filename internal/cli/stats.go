package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"

	units "github.com/docker/go-units"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
)

// statsRun is one `stats` invocation: which containers, how to print.
type statsRun struct {
	e     *engine.Engine
	refs  []string
	all   bool
	tmpl  string
	trunc bool
	out   io.Writer
}

// once prints one table from two readings noStreamInterval apart.
func (s statsRun) once(ctx context.Context) error {
	first, err := s.e.ContainerStats(ctx, s.refs, s.all)
	if err != nil {
		return err
	}
	if !sleep(ctx, noStreamInterval) {
		return nil
	}
	second, err := s.e.ContainerStats(ctx, s.refs, s.all)
	if err != nil {
		return err
	}
	return s.write(s.out, first, second)
}

// stream redraws the table every second, as docker does, until ^C (the
// command's context ends); the first CPU % is from the first second.
func (s statsRun) stream(ctx context.Context) error {
	prev, err := s.e.ContainerStats(ctx, s.refs, s.all)
	if err != nil {
		return err
	}
	for sleep(ctx, streamInterval) {
		cur, err := s.e.ContainerStats(ctx, s.refs, s.all)
		if err != nil {
			return err
		}
		var frame bytes.Buffer
		frame.WriteString("\033[2J\033[H") // clear the screen, cursor home
		if err := s.write(&frame, prev, cur); err != nil {
			return err
		}
		if _, err := frame.WriteTo(s.out); err != nil {
			return err
		}
		prev = cur
	}
	return nil
}

func (s statsRun) write(w io.Writer, prev, cur []engine.ContainerStatsSample) error {
	f := format.Format(s.tmpl)
	if s.tmpl == "" || s.tmpl == format.TableKey {
		f = statsTableFormat
	}
	before := map[string]engine.ContainerStatsSample{}
	for _, p := range prev {
		before[p.ID] = p
	}
	rows := make([]any, 0, len(cur))
	for _, c := range cur {
		rows = append(rows, statsRow{prev: before[c.ID], cur: c, trunc: s.trunc})
	}
	return format.Write(w, f, statsHeader, rows)
}

// statsRow is one line of stats; its methods are the --format fields.
type statsRow struct {
	prev, cur engine.ContainerStatsSample
	trunc     bool
}

func (r statsRow) ID() string {
	if r.trunc {
		return format.TruncateID(r.cur.ID)
	}
	return r.cur.ID
}
func (r statsRow) Container() string { return r.ID() }
func (r statsRow) Name() string {
	if r.cur.Name == "" {
		return "--"
	}
	return r.cur.Name
}

// CPUPerc is the CPU time used between the two readings over the time
// between them: 100% is one CPU busy, as docker counts it.
func (r statsRow) CPUPerc() string {
	pct := 0.0
	wall := r.cur.Read.Sub(r.prev.Read)
	if r.cur.Running && r.prev.ID != "" && wall > 0 && r.cur.CPUNanos >= r.prev.CPUNanos {
		pct = float64(r.cur.CPUNanos-r.prev.CPUNanos) / float64(wall.Nanoseconds()) * 100
	}
	return fmt.Sprintf("%.2f%%", pct)
}
func (r statsRow) MemUsage() string {
	return units.BytesSize(float64(r.cur.MemUsage)) + " / " + units.BytesSize(float64(r.cur.MemLimit))
}
func (r statsRow) MemPerc() string {
	pct := 0.0
	if r.cur.MemLimit > 0 {
		pct = float64(r.cur.MemUsage) / float64(r.cur.MemLimit) * 100
	}
	return fmt.Sprintf("%.2f%%", pct)
}
func (r statsRow) NetIO() string   { return humanIO(r.cur.NetRx, r.cur.NetTx) }
func (r statsRow) BlockIO() string { return humanIO(r.cur.BlockRead, r.cur.BlockWrite) }
func (r statsRow) PIDs() string    { return strconv.FormatUint(r.cur.Pids, 10) }

// MarshalJSON is what --format json prints: docker's field names.
func (r statsRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

func humanIO(in, out uint64) string {
	return units.HumanSizeWithPrecision(float64(in), 3) + " / " + units.HumanSizeWithPrecision(float64(out), 3)
}
