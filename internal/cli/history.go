package cli

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
)

const (
	historyTableFormat         = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
	historyTableFormatNonHuman = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
)

var historyHeader = format.Header{
	"ID":           "IMAGE",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"CreatedBy":    "CREATED BY",
	"Size":         "SIZE",
	"Comment":      "COMMENT",
}

type historyOptions struct {
	human, quiet, noTrunc bool
	format                string
}

// newHistoryCommand is `history` or `image history`.
func (c *cli) newHistoryCommand(verb string) *cobra.Command {
	var opts historyOptions
	cmd := &cobra.Command{
		Use:         verb + " [OPTIONS] IMAGE",
		Short:       "Show the history of an image",
		Args:        exactArgs(1),
		Annotations: map[string]string{annotAliases: "strata image history, strata history"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				items, err := e.ImageHistory(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return writeHistory(c.Out, items, opts)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.format, "format", "", formatHelp)
	fl.BoolVarP(&opts.human, "human", "H", true, "Print sizes and dates in human readable format")
	fl.BoolVar(&opts.noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&opts.quiet, "quiet", "q", false, "Only show image IDs")
	return cmd
}

func writeHistory(out interface{ Write([]byte) (int, error) }, items []engine.HistoryItem, opts historyOptions) error {
	f := format.Format(opts.format)
	if opts.format == "" || opts.format == format.TableKey {
		switch {
		case opts.quiet:
			f = format.QuietFormat
		case !opts.human:
			f = historyTableFormatNonHuman
		default:
			f = historyTableFormat
		}
	}
	rows := make([]any, len(items))
	for i, h := range items {
		rows[i] = &historyRow{h: h, trunc: !opts.noTrunc, human: opts.human}
	}
	return format.Write(out, f, historyHeader, rows)
}

// historyRow is one line of `history`.
type historyRow struct {
	h     engine.HistoryItem
	trunc bool
	human bool
}

func (r *historyRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }

func (r *historyRow) ID() string {
	if r.trunc {
		return format.TruncateID(r.h.ID)
	}
	return r.h.ID
}

func (r *historyRow) CreatedAt() string {
	return time.Unix(r.h.Created, 0).Format(time.RFC3339)
}

func (r *historyRow) CreatedSince() string {
	if !r.human {
		return r.CreatedAt()
	}
	return format.Since(time.Unix(r.h.Created, 0), now())
}

func (r *historyRow) CreatedBy() string {
	by := strings.ReplaceAll(r.h.CreatedBy, "\t", " ")
	if r.trunc {
		return format.Ellipsis(by, 45)
	}
	return by
}

func (r *historyRow) Size() string {
	if r.human {
		return format.Size(r.h.Size)
	}
	return strconv.FormatInt(r.h.Size, 10)
}

func (r *historyRow) Comment() string { return r.h.Comment }
