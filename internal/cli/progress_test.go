package cli

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-containers/strata/internal/engine"
)

// recorder keeps each Write apart, so a golden file can show what every
// step drew.
type recorder struct{ writes [][]byte }

func (r *recorder) Write(b []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(b))
	return len(b), nil
}

// quoted is one Go-quoted line per write: exact bytes, readable escapes.
func (r *recorder) quoted() []byte {
	var b bytes.Buffer
	for _, w := range r.writes {
		b.WriteString(strconv.Quote(string(w)) + "\n")
	}
	return b.Bytes()
}

func (r *recorder) all() []byte { return bytes.Join(r.writes, nil) }

const (
	layerA = "a1b2c3d4e5f6"
	layerB = "0123456789ab"
)

// pullSteps is a pull of two layers, B finishing first, as distribution
// reports it with byte counts.
var pullSteps = []engine.Progress{
	{ID: "latest", Status: "Pulling from library/app"},
	{ID: layerA, Status: "Pulling fs layer"},
	{ID: layerB, Status: "Pulling fs layer"},
	{ID: layerA, Status: "Downloading"},
	{ID: layerB, Status: "Downloading"},
	{ID: layerA, Status: "Downloading", Current: 12_300_000, Total: 45_600_000},
	{ID: layerB, Status: "Downloading", Current: 1_000, Total: 1_000},
	{ID: layerB, Status: "Download complete"},
	{ID: layerB, Status: "Pull complete"},
	{ID: layerA, Status: "Downloading", Current: 45_600_000, Total: 45_600_000},
	{ID: layerA, Status: "Download complete"},
	{ID: layerA, Status: "Pull complete"},
}

var pushSteps = []engine.Progress{
	{Status: "The push refers to repository [localhost:5000/app]"},
	{ID: layerA, Status: "Preparing"},
	{ID: layerB, Status: "Preparing"},
	{ID: layerA, Status: "Pushing"},
	{ID: layerB, Status: "Layer already exists"},
	{ID: layerA, Status: "Pushing", Current: 1_200_000, Total: 3_400_000},
	{ID: layerA, Status: "Pushed"},
	{ID: "c0ffee000000", Status: "Mounted from other/app"},
}

func TestProgressBarsGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cols   int
		steps  []engine.Progress
		screen []string
	}{
		{"progress-pull-tty", 120, pullSteps, []string{
			"latest: Pulling from library/app", layerA + ": Pull complete", layerB + ": Pull complete", ""}},
		{"progress-pull-tty-narrow", 40, pullSteps, []string{
			"latest: Pulling from library/app", layerA + ": Pull complete", layerB + ": Pull complete", ""}},
		{"progress-push-tty", 80, pushSteps, []string{
			"The push refers to repository [localhost:5000/app]", layerA + ": Pushed",
			layerB + ": Layer already exists", "c0ffee000000: Mounted from other/app", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			bars := newProgressBars(&rec, tc.cols, 24)
			for _, p := range tc.steps {
				bars.update(p)
			}
			golden(t, tc.name, rec.quoted())
			if got := render(t, rec.all(), tc.cols); !equalLines(got, tc.screen) {
				t.Errorf("final screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.screen, "\n"))
			}
		})
	}
}

func equalLines(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		p     engine.Progress
		width int
		want  string
	}{
		{engine.Progress{ID: layerA, Status: "Downloading"}, 119, layerA + ": Downloading"},
		{engine.Progress{ID: layerA, Status: "Downloading", Total: 100}, 119,
			layerA + ": Downloading [>" + strings.Repeat(" ", 50) + "]       0B/100B"},
		{engine.Progress{ID: layerA, Status: "Downloading", Current: 50, Total: 100}, 119,
			layerA + ": Downloading [" + strings.Repeat("=", 25) + ">" + strings.Repeat(" ", 25) + "]      50B/100B"},
		{engine.Progress{ID: layerA, Status: "Pushing", Current: 3_400_000, Total: 3_400_000}, 119,
			layerA + ": Pushing [" + strings.Repeat("=", 50) + ">]    3.4MB/3.4MB"},
		{engine.Progress{ID: layerA, Status: "Downloading", Current: 12_345_678}, 119, layerA + ": Downloading  12.35MB"},
		{engine.Progress{ID: layerA, Status: "Downloading", Current: 200, Total: 100}, 119, layerA + ": Downloading     200B"},
		{engine.Progress{ID: layerA, Status: "Downloading", Current: 50, Total: 100}, 40, layerA + ": Downloading      50B/100B"},
		{engine.Progress{ID: layerA, Status: "Downloading", Current: 50, Total: 100}, 60,
			layerA + ": Downloading [" + strings.Repeat("=", 8) + ">" + strings.Repeat(" ", 9) + "]      50B/100B"},
		{engine.Progress{ID: layerA, Status: "Downloading", Current: 50, Total: 100}, 30, layerA + ": Downloading      50B"},
	} {
		t.Run(fmt.Sprintf("%s-%d-%d-%d", tc.p.Status, tc.p.Current, tc.p.Total, tc.width), func(t *testing.T) {
			got := progressLine(tc.p, tc.width)
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			// Only when not even the count fits may the line be wider:
			// progressBars.fit cuts it then.
			if len(got) > tc.width && tc.width >= 40 {
				t.Errorf("%d columns, more than %d", len(got), tc.width)
			}
		})
	}
}

// A line that scrolled off the screen is not reached for: the ID gets a
// new line.
func TestProgressBarsOffScreen(t *testing.T) {
	var rec recorder
	bars := newProgressBars(&rec, 80, 3)
	bars.update(engine.Progress{ID: layerA, Status: "Pulling fs layer"})
	for i := range 3 {
		bars.update(engine.Progress{ID: fmt.Sprint(i), Status: "Already exists"})
	}
	bars.update(engine.Progress{ID: layerA, Status: "Pull complete"})
	if last := string(rec.writes[len(rec.writes)-1]); last != layerA+": Pull complete\n" {
		t.Fatalf("last write %q, want a new line", last)
	}
}

func TestProgressOutputOffTerminal(t *testing.T) {
	var b bytes.Buffer
	report, wantBytes := progressOutput(&b)
	if wantBytes {
		t.Fatal("a buffer asked for byte counts")
	}
	for _, p := range pullSteps {
		report(p)
	}
	want := "latest: Pulling from library/app\n" +
		layerA + ": Pulling fs layer\n" + layerB + ": Pulling fs layer\n" +
		layerB + ": Download complete\n" + layerB + ": Pull complete\n" +
		layerA + ": Download complete\n" + layerA + ": Pull complete\n"
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
