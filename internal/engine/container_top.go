package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strata-containers/strata/internal/errdefs"
)

// ContainerTopResult is `top`'s table: ps's column titles and one row
// per process of the container.
type ContainerTopResult struct {
	Titles    []string
	Processes [][]string
}

// topFormats are the ps option sets top understands: processes are read
// from /proc, not by running ps, so only these column sets exist.
var topFormats = map[string][]string{
	"-ef": {"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
	"aux": {"USER", "PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"},
}

// topAliases spell the same sets as ps accepts them.
var topAliases = map[string]string{"": "-ef", "-e -f": "-ef", "-f -e": "-ef", "-aux": "aux", "-ef -ww": "-ef", "auxww": "aux"}

// ContainerTop lists the processes in a running container's cgroup, with
// ps's columns (psArgs "" or "-ef": UID PID PPID C STIME TTY TIME CMD;
// "aux": USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND).
func (e *Engine) ContainerTop(ctx context.Context, ref, psArgs string) (ContainerTopResult, error) {
	var res ContainerTopResult
	key := strings.Join(strings.Fields(psArgs), " ")
	if alias, ok := topAliases[key]; ok {
		key = alias
	}
	titles, ok := topFormats[key]
	if !ok {
		return res, errdefs.Invalid("ps options %q are not supported: top reads /proc itself and knows -ef and aux", psArgs)
	}
	c, err := e.containers.Get(ctx, ref)
	if err != nil {
		return res, err
	}
	if !c.Running() {
		return res, errdefs.Conflict("container %s is not running", c.ID)
	}
	rt, err := e.runtime()
	if err != nil {
		return res, err
	}
	pids, err := rt.Processes(ctx, c.ID)
	if err != nil {
		return res, err
	}
	slices.Sort(pids)
	res.Titles = titles
	t := newTopContext()
	for _, pid := range pids {
		p, err := readProc(pid)
		if err != nil {
			continue // exited meanwhile
		}
		if key == "aux" {
			res.Processes = append(res.Processes, t.auxRow(p))
		} else {
			res.Processes = append(res.Processes, t.efRow(p))
		}
	}
	return res, nil
}

// topContext holds what every row needs: the clock, boot time, names.
type topContext struct {
	now   time.Time
	boot  time.Time
	users map[int]string
	mem   uint64
}

func newTopContext() topContext {
	return topContext{now: time.Now(), boot: bootTime(), users: userNames(), mem: memTotal()}
}

func (t topContext) user(uid int) string {
	if name, ok := t.users[uid]; ok {
		return name
	}
	return strconv.Itoa(uid)
}

func (t topContext) started(p procInfo) time.Time {
	return t.boot.Add(time.Duration(p.StartTicks) * time.Second / clockTicks)
}

// cpuPercent is the share of one CPU the process used since it started.
func (t topContext) cpuPercent(p procInfo) float64 {
	life := t.now.Sub(t.started(p)).Seconds()
	if life <= 0 {
		return 0
	}
	return float64(p.CPUTicks) / clockTicks / life * 100
}

// startTime is ps's STIME/START: the time today, else month and day.
func (t topContext) startTime(p procInfo) string {
	s := t.started(p)
	switch {
	case t.now.Sub(s) < 24*time.Hour:
		return s.Format("15:04")
	case s.Year() == t.now.Year():
		return s.Format("Jan02")
	}
	return s.Format("2006")
}

func command(p procInfo) string {
	if len(p.Args) == 0 {
		return "[" + p.Comm + "]"
	}
	return strings.Join(p.Args, " ")
}

func (t topContext) efRow(p procInfo) []string {
	secs := p.CPUTicks / clockTicks
	cpuTime := fmt.Sprintf("%02d:%02d:%02d", secs/3600%24, secs/60%60, secs%60)
	if days := secs / 86400; days > 0 {
		cpuTime = fmt.Sprintf("%d-%s", days, cpuTime)
	}
	return []string{
		t.user(p.UID), strconv.Itoa(p.PID), strconv.Itoa(p.PPID), strconv.Itoa(int(t.cpuPercent(p))),
		t.startTime(p), ttyName(p.TTY), cpuTime, command(p),
	}
}

func (t topContext) auxRow(p procInfo) []string {
	rss := p.RSSPages * uint64(os.Getpagesize())
	memPct := 0.0
	if t.mem > 0 {
		memPct = float64(rss) / float64(t.mem) * 100
	}
	secs := p.CPUTicks / clockTicks
	return []string{
		t.user(p.UID), strconv.Itoa(p.PID), fmt.Sprintf("%.1f", t.cpuPercent(p)), fmt.Sprintf("%.1f", memPct),
		strconv.FormatUint(p.VSize/1024, 10), strconv.FormatUint(rss/1024, 10), ttyName(p.TTY), p.State,
		t.startTime(p), fmt.Sprintf("%d:%02d", secs/60, secs%60), command(p),
	}
}
