package engine

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	units "github.com/docker/go-units"

	"github.com/strata-containers/strata/internal/container"
	"github.com/strata-containers/strata/internal/errdefs"
	"github.com/strata-containers/strata/internal/monitor"
)

// ContainerSummary is one row of `ps`.
type ContainerSummary struct {
	ID      string
	Names   []string // with docker's leading "/"
	Image   string
	Command string
	Created time.Time
	State   string // created, running, exited, ...
	Status  string // "Up 2 seconds", "Exited (0) 3 seconds ago", "Created"
	Labels  map[string]string
	// SizeRw and SizeRootFs are filled with ContainerListOptions.Size:
	// the writable layer's bytes, and those plus the image's.
	SizeRw, SizeRootFs int64
	Ports              []PortMapping // published, while running (network_inspect.go)
}

// ContainerListOptions are the options of ps.
type ContainerListOptions struct {
	All     bool
	Limit   int // the n most recently created (-n); 0 means no limit
	Latest  bool
	Filters Filters
	Size    bool // fill SizeRw and SizeRootFs (ps -s)
}

// ContainerList lists containers, newest first: the running ones, or all.
func (e *Engine) ContainerList(ctx context.Context, opts ContainerListOptions) ([]ContainerSummary, error) {
	if err := opts.Filters.check(psFilterKeys...); err != nil {
		return nil, err
	}
	more, err := e.moreContainerFilters(ctx, opts.Filters)
	if err != nil {
		return nil, err
	}
	for _, s := range opts.Filters["status"] {
		if !slices.Contains([]string{"created", "restarting", "running", "removing", "paused", "exited", "dead"}, s) {
			return nil, invalidFilter("status", s)
		}
	}
	cs, err := e.containers.List(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Latest {
		opts.Limit = 1
	}
	all := opts.All || opts.Limit > 0 || len(opts.Filters["status"]) > 0 || len(opts.Filters["exited"]) > 0
	now := time.Now()
	var out []ContainerSummary
	for _, c := range cs {
		if opts.Limit > 0 && len(out) == opts.Limit {
			break
		}
		if (!all && !c.Running()) || !matchContainer(opts.Filters, c) || !more(c) {
			continue
		}
		out = append(out, summarizeContainer(c, now))
		if opts.Size {
			e.containerSizes(ctx, c, &out[len(out)-1])
		}
		out[len(out)-1].Ports = e.runningPorts(c)
	}
	return out, nil
}

func invalidFilter(key, value string) error {
	return errdefs.Invalid("invalid filter '%s=%s'", key, value)
}

func matchContainer(f Filters, c container.Container) bool {
	if v := f["status"]; len(v) > 0 && !slices.Contains(v, c.State.Status) {
		return false
	}
	if v := f["id"]; len(v) > 0 && !slices.ContainsFunc(v, func(p string) bool { return strings.HasPrefix(c.ID, p) }) {
		return false
	}
	if v := f["name"]; len(v) > 0 && !slices.ContainsFunc(v, func(p string) bool {
		// docker matches names as regular expressions; a substring
		// (or a glob) covers what people type.
		ok, _ := path.Match(strings.TrimPrefix(p, "/"), c.Name)
		return ok || strings.Contains(c.Name, strings.TrimPrefix(p, "/"))
	}) {
		return false
	}
	return f.matchLabels(c.Config.Labels)
}

func summarizeContainer(c container.Container, now time.Time) ContainerSummary {
	return ContainerSummary{
		ID: c.ID, Names: []string{"/" + c.Name}, Image: c.ImageName,
		Command: commandLine(c.Path, c.Args), Created: c.Created,
		State: c.State.Status, Status: statusText(c.State, now), Labels: c.Config.Labels,
	}
}

// commandLine is ps's COMMAND: the command and its arguments, as docker
// shows them (quoted, and truncated by the CLI).
func commandLine(path string, args []string) string {
	return strings.Join(append([]string{path}, args...), " ")
}

// statusText is docker's STATUS column.
func statusText(st monitor.State, now time.Time) string {
	switch st.Status {
	case monitor.StatusRunning:
		return "Up " + units.HumanDuration(now.Sub(st.StartedAt))
	case monitor.StatusExited:
		if st.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", st.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	case monitor.StatusCreated:
		return "Created"
	case monitor.StatusPaused:
		return "Up " + units.HumanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case monitor.StatusDead:
		return "Dead"
	case monitor.StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	}
	return st.Status
}
