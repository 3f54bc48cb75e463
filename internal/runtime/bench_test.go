package runtime

import (
	"context"
	"testing"
)

// BenchmarkRunTrue measures a whole container life: create, start, wait
// for `true` to exit, delete.
func BenchmarkRunTrue(b *testing.B) {
	ctx := context.Background()
	rt := newRuntime(b)
	bundle, spec := newBundle(b, "true")
	writeSpec(b, bundle, spec)
	b.ResetTimer()
	for range b.N {
		id := newID(b)
		if err := rt.Create(ctx, id, bundle, CreateOpts{}); err != nil {
			b.Fatal(err)
		}
		if err := rt.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if code, err := rt.Wait(ctx, id); err != nil || code != 0 {
			b.Fatalf("exit %d, %v", code, err)
		}
		if err := rt.Delete(ctx, id, false); err != nil {
			b.Fatal(err)
		}
	}
}
