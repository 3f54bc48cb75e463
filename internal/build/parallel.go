package build

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// errDependency marks a stage skipped because a stage it needs failed.
var errDependency = errors.New("a stage it depends on failed")

// buildStages builds the needed stages, each as soon as the stages it
// depends on are done, so independent stages run in parallel. The output
// reads as if they ran one after the other: a stage's lines stream while
// every stage before it is done, and are held back until then otherwise.
// Step numbers are fixed in advance, in Dockerfile order.
func (b *builder) buildStages(ctx context.Context, needed []int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	first, deps := map[int]int{}, map[int][]int{}
	for _, i := range needed {
		first[i] = b.total
		b.total += 1 + len(b.stages[i].Commands)
		deps[i], _ = b.stageDeps(i) // checked by neededStages
	}
	out := newOrderedOutput(b.out, needed)
	done := make([]chan struct{}, len(b.stages))
	errs := make([]error, len(b.stages))
	for _, i := range needed {
		done[i] = make(chan struct{})
	}
	var wg sync.WaitGroup
	for _, i := range needed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			defer out.finish(i)
			for _, d := range deps[i] {
				<-done[d]
				if errs[d] != nil {
					errs[i] = errDependency
					return
				}
			}
			sb := *b
			sb.stage, sb.step, sb.out, sb.lex = i, first[i], out.writer(i), shell.NewLex(b.escape)
			st, err := sb.buildStage(ctx, i)
			if err != nil {
				errs[i] = err
				cancel() // the build fails: stop the other stages
				return
			}
			b.built[i] = st
		}()
	}
	wg.Wait()
	return firstError(errs, needed)
}

// firstError picks the error to report: a stage's own failure rather
// than the cancellation it caused in the others.
func firstError(errs []error, order []int) error {
	var fallback error
	for _, i := range order {
		switch err := errs[i]; {
		case err == nil, errors.Is(err, errDependency):
		case errors.Is(err, context.Canceled) && fallback == nil:
			fallback = err
		case !errors.Is(err, context.Canceled):
			return err
		}
	}
	return fallback
}

// orderedOutput serialises the output of concurrent stages in their order.
type orderedOutput struct {
	mu    sync.Mutex
	w     io.Writer
	order []int
	pos   int // order[pos] is the stage whose output streams
	held  map[int]*bytes.Buffer
	done  map[int]bool
}

func newOrderedOutput(w io.Writer, order []int) *orderedOutput {
	o := &orderedOutput{w: w, order: order, held: map[int]*bytes.Buffer{}, done: map[int]bool{}}
	for _, i := range order {
		o.held[i] = &bytes.Buffer{}
	}
	return o
}

type stageWriter struct {
	o     *orderedOutput
	stage int
}

func (o *orderedOutput) writer(stage int) io.Writer { return stageWriter{o: o, stage: stage} }

func (sw stageWriter) Write(p []byte) (int, error) {
	o := sw.o
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pos < len(o.order) && o.order[o.pos] == sw.stage {
		return o.w.Write(p)
	}
	return o.held[sw.stage].Write(p)
}

// finish marks a stage done and lets the next ones' output through.
func (o *orderedOutput) finish(stage int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done[stage] = true
	for o.pos < len(o.order) && o.done[o.order[o.pos]] {
		o.pos++
		if o.pos < len(o.order) {
			_, _ = o.held[o.order[o.pos]].WriteTo(o.w)
		}
	}
}
