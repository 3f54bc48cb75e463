package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"

	"github.com/strata-containers/strata/internal/build/dockerignore"
	"github.com/strata-containers/strata/internal/errdefs"
)

// builder is one build's state.
type builder struct {
	be     Backend
	opts   Options
	out    io.Writer
	cache  *Cache
	lex    *shell.Lex
	ignore *patternmatcher.PatternMatcher
	stages []instructions.Stage
	meta   *argScope // the args declared before the first FROM
	escape rune
	// built holds each stage's result once it is built; a stage reads
	// only the entries of the stages it depends on, after they are done.
	built []*state
	// stage and step are the stage this builder runs (each concurrent
	// stage has its own copy of the builder) and its last step number.
	stage int
	step  int
	total int
	used  *usedArgs
	memo  *hashMemo
}

// usedArgs are the build args some ARG consumed, from any stage.
type usedArgs struct {
	mu sync.Mutex
	m  map[string]bool
}

func (u *usedArgs) add(k string) {
	u.mu.Lock()
	u.m[k] = true
	u.mu.Unlock()
}

func newBuilder(be Backend, opts Options) (*builder, error) {
	res, err := parser.Parse(bytes.NewReader(opts.Dockerfile))
	if err != nil {
		return nil, errdefs.Invalid("dockerfile parse error: %w", err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, errdefs.Invalid("%w", err)
	}
	if len(stages) == 0 {
		return nil, errdefs.Invalid("dockerfile parse error: file with no instructions")
	}
	b := &builder{
		be: be, opts: opts, out: opts.Out, lex: shell.NewLex(res.EscapeToken), escape: res.EscapeToken,
		stages: stages, built: make([]*state, len(stages)), used: &usedArgs{m: map[string]bool{}},
	}
	if b.out == nil {
		b.out = io.Discard
	}
	if b.cache, err = OpenCache(opts.CacheDir); err != nil {
		return nil, err
	}
	b.memo = loadHashMemo(filepath.Join(filepath.Dir(opts.CacheDir), "filehash"))
	if opts.ContextDir != "" {
		if b.ignore, err = dockerignore.Load(opts.ContextDir); err != nil {
			return nil, err
		}
	}
	if b.meta, err = b.metaScope(metaArgs); err != nil {
		return nil, err
	}
	return b, nil
}

// run builds the target stage and the stages it needs, in order.
func (b *builder) run(ctx context.Context) (*state, error) {
	target := len(b.stages) - 1
	if b.opts.Target != "" {
		i, ok := instructions.HasStage(b.stages, b.opts.Target)
		if !ok {
			return nil, errdefs.Invalid("failed to reach build target %s in Dockerfile", b.opts.Target)
		}
		target = i
	}
	needed, err := b.neededStages(target)
	if err != nil {
		return nil, err
	}
	if err := b.addLabelStep(target); err != nil {
		return nil, err
	}
	if err := b.buildStages(ctx, needed); err != nil {
		return nil, err
	}
	return b.built[target], nil
}

// neededStages lists, in Dockerfile order, the stages the target depends on
// (through FROM <stage> and COPY --from): the others are skipped.
func (b *builder) neededStages(target int) ([]int, error) {
	need := map[int]bool{}
	var visit func(i int) error
	visit = func(i int) error {
		if need[i] {
			return nil
		}
		need[i] = true
		deps, err := b.stageDeps(i)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(target); err != nil {
		return nil, err
	}
	var out []int
	for i := range b.stages {
		if need[i] {
			out = append(out, i)
		}
	}
	return out, nil
}

func (b *builder) stageDeps(i int) ([]int, error) {
	var deps []int
	base, err := b.meta.expand(b.lex, b.stages[i].BaseName)
	if err != nil {
		return nil, b.errAt(b.stages[i].Location, err)
	}
	if j, ok := b.stageRef(base, i); ok {
		deps = append(deps, j)
	}
	for _, cmd := range b.stages[i].Commands {
		for _, from := range fromRefs(cmd) {
			from, err := b.meta.expand(b.lex, from)
			if err != nil {
				return nil, b.errAt(cmd.Location(), err)
			}
			if j, ok := b.stageRef(from, i); ok {
				deps = append(deps, j)
			}
		}
	}
	return deps, nil
}

// fromRefs lists the stages or images an instruction reads from: COPY
// --from and RUN --mount=...,from=.
func fromRefs(cmd instructions.Command) []string {
	var refs []string
	switch c := cmd.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			refs = append(refs, c.From)
		}
	case *instructions.RunCommand:
		for _, m := range instructions.GetMounts(c) {
			if m.From != "" {
				refs = append(refs, m.From)
			}
		}
	}
	return refs
}

// stageRef resolves a stage name or index used in stage cur; only earlier
// stages count, as in Docker.
func (b *builder) stageRef(name string, cur int) (int, bool) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, n >= 0 && n < cur
	}
	j, ok := instructions.HasStage(b.stages, name)
	return j, ok && j < cur
}

// errAt names the Dockerfile line of an error.
func (b *builder) errAt(loc []parser.Range, err error) error {
	if len(loc) == 0 {
		return err
	}
	return fmt.Errorf("dockerfile line %d: %w", loc[0].Start.Line, err)
}

// printf writes a progress line.
func (b *builder) printf(format string, args ...any) {
	fmt.Fprintf(b.out, format, args...)
}

func (b *builder) printStep(code string) {
	b.step++
	b.printf("Step %d/%d : %s\n", b.step, b.total, strings.TrimSpace(code))
}

func (b *builder) warnUnusedArgs() {
	var unused []string
	for k := range b.opts.BuildArgs {
		if !b.used.m[k] && !isPredefinedArg(k) {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		b.printf("[Warning] One or more build-args %v were not consumed\n", unused)
	}
}

// addLabelStep appends --label's labels to the target stage as one LABEL
// step, as Docker's classic builder does; quoted so that nothing in them
// is substituted.
func (b *builder) addLabelStep(target int) error {
	if len(b.opts.Labels) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(b.opts.Labels))
	line := "LABEL"
	for _, k := range keys {
		v := b.opts.Labels[k]
		if strings.Contains(v, "'") {
			return errdefs.Invalid("--label %s: a value with a single quote is not supported", k)
		}
		line += fmt.Sprintf(" %q='%s'", k, v)
	}
	res, err := parser.Parse(strings.NewReader(line))
	if err != nil || len(res.AST.Children) != 1 {
		return errdefs.Invalid("--label: %v", err)
	}
	cmd, err := instructions.ParseCommand(res.AST.Children[0])
	if err != nil {
		return errdefs.Invalid("--label: %w", err)
	}
	b.stages[target].Commands = append(b.stages[target].Commands, cmd)
	return nil
}
