package cli

import (
	"strconv"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
)

// containersDFRow is the Containers line of `system df`: active are the
// running (and paused) ones, whose writable layers are not reclaimable.
func containersDFRow(cs []engine.ContainerUsage) *dfRow {
	r := &dfRow{kind: "Containers", total: len(cs), percent: true}
	for _, c := range cs {
		r.size += c.SizeRw
		if c.Running {
			r.active++
		} else {
			r.reclaim += c.SizeRw
		}
	}
	return r
}

// dfContainerRow is a container of `system df -v`: ps's columns plus the
// writable layer's size and the number of volumes.
type dfContainerRow struct {
	psRow
	sizeRw       int64
	localVolumes int
}

func dfContainerRows(cs []engine.ContainerUsage, trunc bool) []any {
	rows := make([]any, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, &dfContainerRow{psRow: psRow{c: c.ContainerSummary, trunc: trunc}, sizeRw: c.SizeRw, localVolumes: c.LocalVolumes})
	}
	return rows
}

func (r *dfContainerRow) Size() string                 { return format.HumanSize(r.sizeRw) }
func (r *dfContainerRow) LocalVolumes() string         { return strconv.Itoa(r.localVolumes) }
func (r *dfContainerRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }
