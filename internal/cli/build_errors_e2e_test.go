package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestE2EBuildFailingRun(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nRUN echo kept > /kept\nRUN echo failing output; exit 3\n",
	})
	r := s.run(nil, "build", ctx)
	want := "The command '/bin/sh -c echo failing output; exit 3' returned a non-zero code: 3"
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "line 3") {
		t.Errorf("exit %d, stderr %q; want 1 and %q naming line 3", r.code, r.stderr, want)
	}
	if !strings.Contains(r.stdout, "failing output") {
		t.Errorf("the step's output was not shown:\n%s", r.stdout)
	}
	// Nothing of the failed step is left: no container, mount, runtime
	// state or writable layer; the step before it stays cached.
	s.assertClean(t)
	if rws, _ := filepath.Glob(filepath.Join(s.root, "layers", "*", "rw", "*")); len(rws) > 0 {
		t.Errorf("writable layers left: %v", rws)
	}
	assertNoBuildLeftovers(t, s)
	if r := s.run(nil, "build", ctx); !strings.Contains(r.stdout, "Using cache") {
		t.Errorf("the step before the failure was not cached:\n%s", r.stdout)
	}
}

func TestE2EBuildBadInput(t *testing.T) {
	s := newContainerStore(t)
	outside := t.TempDir()
	for _, tc := range []struct {
		name, dockerfile string
		files            map[string]string
		want             string
	}{
		{"unknown instruction", "FROM busybox\nFROBNICATE x\n", nil, "line 2: unknown instruction: FROBNICATE"},
		{"missing file", "FROM busybox\nCOPY nope /x\n", nil, "line 2: COPY failed: file not found in build context"},
		{"parent path", "FROM busybox\nCOPY ../x /x\n", nil, "line 2: COPY failed: forbidden path outside the build context"},
		{"symlink out", "FROM busybox\n\nCOPY link /x\n", map[string]string{"link": "->" + outside}, "line 3: COPY failed"},
		{"relative symlink out", "FROM busybox\nCOPY link /x\n", map[string]string{"link": "->../../../etc"}, "line 2: COPY failed: link: forbidden path"},
		{"bad chown", "FROM busybox\nCOPY --chown=nosuchuser f /f\n", map[string]string{"f": "x"}, "line 2: unable to convert uid/gid chown string to host mapping: can't find uid for user nosuchuser"},
		{"arg before declared", "FROM busybox\nCOPY $SRC /x\nARG SRC=f\n", map[string]string{"f": "x"}, "line 2: ARG SRC is used before it is declared"},
		{"bad target", "FROM busybox AS a\n", nil, "failed to reach build target nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"Dockerfile": tc.dockerfile}
			for k, v := range tc.files {
				files[k] = v
			}
			args := []string{"build", buildContext(t, files)}
			if tc.name == "bad target" {
				args = append(args, "--target", "nope")
			}
			r := s.run(nil, args...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
	s.assertClean(t)
}

func TestE2EBuildMultiStage(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{
		"Dockerfile": `ARG BASE=busybox
FROM ${BASE} AS first
RUN echo from-first > /artifact
FROM busybox AS unused
RUN exit 9
FROM first AS second
RUN echo second >> /artifact
FROM busybox
COPY --from=second /artifact /got
COPY --from=0 /artifact /got0
CMD ["cat", "/got", "/got0"]
`,
	})
	out := s.ok(nil, "build", "-t", "multi", ctx)
	if strings.Contains(out, "exit 9") {
		t.Errorf("the unused stage was built:\n%s", out)
	}
	if got := s.ok(nil, "run", "--rm", "multi"); got != "from-first\nsecond\nfrom-first\n" {
		t.Errorf("multi-stage result: %q", got)
	}
	s.ok(nil, "build", "--target", "first", "-t", "first-only", ctx)
	if got := s.ok(nil, "run", "--rm", "first-only", "cat", "/artifact"); got != "from-first\n" {
		t.Errorf("--target first: %q", got)
	}
}

func TestE2EBuildContexts(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{
		"Dockerfile":    "FROM busybox\nCOPY . /ctx/\n",
		"Other.docker":  "FROM busybox\nCOPY kept /kept\n",
		"kept":          "k",
		"skip/me":       "no",
		"logs/a.log":    "no",
		"logs/keep.log": "yes",
		".dockerignore": "skip\n**/*.log\n!logs/keep.log\n",
	})
	s.ok(nil, "build", "-t", "dirctx", ctx)
	got := s.ok(nil, "run", "--rm", "dirctx", "sh", "-c", "cd /ctx && find . -type f | sort")
	if got != "./.dockerignore\n./Dockerfile\n./Other.docker\n./kept\n./logs/keep.log\n" {
		t.Errorf(".dockerignore not honoured, the image holds:\n%s", got)
	}
	// -f elsewhere, -q prints only the ID, --iidfile gets it too.
	iid := filepath.Join(t.TempDir(), "iid")
	out := s.ok(nil, "build", "-q", "--iidfile", iid, "-f", filepath.Join(ctx, "Other.docker"), ctx)
	data, _ := os.ReadFile(iid)
	if !strings.HasPrefix(out, "sha256:") || strings.TrimSpace(out) != string(data) {
		t.Errorf("-q printed %q, iidfile %q", out, data)
	}
	// A tar on stdin, a tar file, a lone Dockerfile on stdin, -f -.
	tarball, err := exec.Command("tar", "-C", ctx, "-cf", "-", ".").Output()
	if err != nil {
		t.Skipf("needs tar to make a context archive: %v", err)
	}
	s.ok(strings.NewReader(string(tarball)), "build", "-f", "Other.docker", "-")
	s.ok(nil, "build", "-f", "Other.docker", writeFile(t, "ctx.tar", tarball))
	out = s.ok(strings.NewReader("FROM busybox\nRUN echo lone\n"), "build", "-")
	if !strings.Contains(out, "lone") {
		t.Errorf("lone Dockerfile on stdin:\n%s", out)
	}
	s.ok(strings.NewReader("FROM busybox\nCOPY kept /k\n"), "build", "-f", "-", ctx)
	assertNoBuildLeftovers(t, s) // the unpacked tar contexts are gone
	// A Dockerfile of only FROM builds the base image itself.
	if id := strings.TrimSpace(s.ok(strings.NewReader("FROM busybox\n"), "build", "-q", "-")); id != s.inspectImage(t, "busybox").ID {
		t.Errorf("FROM busybox alone built %s", id)
	}
}

// TestE2EBuildStagesInParallel: stage a waits for a file that the later,
// independent stage b writes into a shared cache mount; run one after the
// other, a would give up (after 30 s) and fail the build. The output still
// reads in Dockerfile order.
func TestE2EBuildStagesInParallel(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": `FROM busybox AS a
RUN --mount=type=cache,id=sync,target=/sync i=0; while [ ! -e /sync/b ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; test -e /sync/b && echo saw-b > /a
FROM busybox AS b
RUN --mount=type=cache,id=sync,target=/sync touch /sync/b && echo made-b > /b
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
CMD ["cat", "/a", "/b"]
`})
	out := s.ok(nil, "build", "-t", "parallel", ctx)
	if got := s.ok(nil, "run", "--rm", "parallel"); got != "saw-b\nmade-b\n" {
		t.Errorf("parallel stages gave %q", got)
	}
	last := 0
	for _, l := range lines(out) {
		var n, total int
		if _, err := fmt.Sscanf(l, "Step %d/%d :", &n, &total); err == nil {
			if n != last+1 {
				t.Errorf("step %d after step %d:\n%s", n, last, out)
			}
			last = n
		}
	}
	if last != 8 {
		t.Errorf("saw %d steps, want 8:\n%s", last, out)
	}
}

// A failing stage stops the others: a long RUN in a parallel stage is
// killed (were it waited for, the test would hang) and the failure that
// caused it is the one reported.
func TestE2EBuildFailureCancelsOtherStages(t *testing.T) {
	s := newContainerStore(t)
	ctx := buildContext(t, map[string]string{"Dockerfile": `FROM busybox AS slow
RUN sleep 6543
FROM busybox AS failing
RUN sleep 1; exit 5
FROM busybox
COPY --from=slow /etc/hostname /a
COPY --from=failing /etc/hostname /b
`})
	r := s.run(nil, "build", ctx)
	if r.code != 1 || !strings.Contains(r.stderr, "returned a non-zero code: 5") {
		t.Errorf("exit %d, stderr %q; want the failing stage's error", r.code, r.stderr)
	}
	if procs := processesMentioning("sleep 6543"); len(procs) > 0 {
		t.Errorf("the other stage's RUN still runs: %v", procs)
	}
	s.assertClean(t)
	assertNoBuildLeftovers(t, s)
}
