package cli

// Progress of pull and push, as docker shows it. Off a terminal: one plain
// line per step ("<id>: Pull complete"). On a terminal: one line per layer,
// rewritten in place as the layer moves on ("Downloading [==>   ] 1MB/4MB",
// "Download complete", "Pull complete"), with ANSI cursor movement.

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/docker/go-units"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/engine"
)

// progressOutput picks how a pull or push reports on out: bars on a
// terminal, docker's plain lines elsewhere. bytes says whether the
// reporter wants byte counts (engine's ProgressBytes).
func progressOutput(out io.Writer) (report func(engine.Progress), bytes bool) {
	if cols, rows, ok := terminalSize(out); ok {
		return newProgressBars(out, cols, rows).update, true
	}
	return progressPrinter(out), false
}

// terminalSize is the size of the terminal v writes to; ok is false when
// v is no terminal. A terminal that reports no size (a fresh pty) is taken
// as 80x24, which no real terminal is narrower than.
func terminalSize(v any) (cols, rows int, ok bool) {
	if !isTerminal(v) {
		return 0, 0, false
	}
	cols, rows = 80, 24
	ws, err := unix.IoctlGetWinsize(int(v.(interface{ Fd() uintptr }).Fd()), unix.TIOCGWINSZ)
	if err == nil && ws.Col > 0 && ws.Row > 0 {
		cols, rows = int(ws.Col), int(ws.Row)
	}
	return cols, rows, true
}

// progressPrinter prints docker's non-TTY progress lines ("<id>: Pull
// complete"); the per-chunk "Downloading" and "Pushing" steps only make
// sense as bars, which only a terminal gets.
func progressPrinter(w io.Writer) func(engine.Progress) {
	var mu sync.Mutex
	return func(p engine.Progress) {
		if p.Status == "Downloading" || p.Status == "Pushing" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if p.ID == "" {
			fmt.Fprintln(w, p.Status)
			return
		}
		fmt.Fprintf(w, "%s: %s\n", p.ID, p.Status)
	}
}

// progressBars draws docker's terminal progress: every ID gets a line of
// its own the first time it is seen, and later steps of that ID rewrite
// that line. The cursor always rests at the start of the line below the
// last one printed, so whatever is printed after the progress (the
// "Digest:" lines) lands below it.
type progressBars struct {
	mu    sync.Mutex
	w     io.Writer
	cols  int
	rows  int
	ids   map[string]int // line of each ID, counted from the first line printed
	lines int            // lines printed so far
}

func newProgressBars(w io.Writer, cols, rows int) *progressBars {
	return &progressBars{w: w, cols: cols, rows: rows, ids: map[string]int{}}
}

// update draws one step. Each step is one Write, so steps reported from
// concurrent layer downloads never interleave their escape sequences.
func (b *progressBars) update(p engine.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	text := b.fit(progressLine(p, b.cols-1))
	line, seen := b.ids[p.ID]
	// A line scrolled off the top of the screen cannot be reached with
	// cursor-up: the ID starts a new line instead.
	if p.ID == "" || !seen || b.lines-line >= b.rows {
		if p.ID != "" {
			b.ids[p.ID] = b.lines
		}
		b.lines++
		io.WriteString(b.w, text+"\n")
		return
	}
	up := b.lines - line
	fmt.Fprintf(b.w, "\x1b[%dA\r\x1b[2K%s\x1b[%dB\r", up, text, up)
}

// fit cuts text to the terminal's width less one column: a line that
// wrapped would take two rows and throw every cursor-up count off.
func (b *progressBars) fit(text string) string {
	limit := b.cols - 1
	if len(text) <= limit {
		return text
	}
	r := []rune(text)
	if len(r) > limit {
		r = r[:limit]
	}
	return string(r)
}

// progressLine is "<id>: <status>" and, for a byte count, docker's bar and
// numbers ("[=====>      ]  12.3MB/45.6MB"), the bar as wide as fits in
// width columns, at most docker's 50.
func progressLine(p engine.Progress, width int) string {
	head := p.Status
	if p.ID != "" {
		head = p.ID + ": " + p.Status
	}
	if p.Current <= 0 && p.Total <= 0 {
		return head
	}
	current := units.HumanSize(float64(p.Current))
	if p.Total <= 0 || p.Current > p.Total {
		// No total, or a total the count overran: docker shows the count only.
		return fmt.Sprintf("%s %8v", head, current)
	}
	numbers := fmt.Sprintf("%8v/%v", current, units.HumanSize(float64(p.Total)))
	// "[" + cells + ">" + "] " around the cells, one space after head.
	cells := min(50, width-len(head)-len(numbers)-5)
	if cells < 10 {
		// No room for a bar: the numbers, or on a very narrow terminal
		// just the count.
		if len(head)+1+len(numbers) <= width {
			return head + " " + numbers
		}
		return fmt.Sprintf("%s %8v", head, current)
	}
	done := int(p.Current * int64(cells) / p.Total)
	return fmt.Sprintf("%s [%s>%s] %s", head, strings.Repeat("=", done), strings.Repeat(" ", cells-done), numbers)
}
