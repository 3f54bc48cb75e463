package cli

import (
	"fmt"
	"io"
	"strconv"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/reference"
)

// `system df` output, laid out as docker's.

const (
	dfTableFormat           = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
	dfImageTableFormat      = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"
	dfContainerTableFormat  = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}"
	dfVolumeTableFormat     = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
	dfBuildCacheTableFormat = "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}"
)

var (
	dfHeader = format.Header{
		"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE",
	}
	dfContainerHeader = format.Header{
		"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES",
		"Size": "SIZE", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES",
	}
	dfVolumeHeader     = format.Header{"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}
	dfBuildCacheHeader = format.Header{
		"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
		"LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED",
	}
)

// dfRow is one line of the summary: a kind of object and its usage.
type dfRow struct {
	kind          string
	total, active int
	size, reclaim int64
	percent       bool // show the reclaimable share (not for the build cache)
}

func (r *dfRow) MarshalJSON() ([]byte, error) { return format.MarshalMethods(r) }
func (r *dfRow) Type() string                 { return r.kind }
func (r *dfRow) TotalCount() string           { return strconv.Itoa(r.total) }
func (r *dfRow) Active() string               { return strconv.Itoa(r.active) }
func (r *dfRow) Size() string                 { return format.HumanSize(r.size) }

func (r *dfRow) Reclaimable() string {
	if r.percent && r.size > 0 {
		return fmt.Sprintf("%s (%d%%)", format.HumanSize(r.reclaim), r.reclaim*100/r.size)
	}
	return format.HumanSize(r.reclaim)
}

func writeDiskUsage(w io.Writer, du engine.DiskUsage, tmpl string, verbose bool) error {
	if verbose {
		return writeDiskUsageVerbose(w, du, tmpl)
	}
	f := format.Format(tmpl)
	if tmpl == "" || tmpl == format.TableKey {
		f = dfTableFormat
	}
	active := 0
	for _, img := range du.Images {
		if img.Containers > 0 {
			active++
		}
	}
	rows := []any{
		&dfRow{kind: "Images", total: len(du.Images), active: active, size: du.LayersSize, reclaim: du.ImagesReclaimable, percent: true},
		containersDFRow(du.Containers),
		volumesDFRow(du.Volumes),
		// Between builds no cache entry is in use: all of it is reclaimable.
		&dfRow{kind: "Build Cache", total: du.BuildCache.Entries, size: du.BuildCache.Size, reclaim: du.BuildCache.Size},
	}
	return format.Write(w, f, dfHeader, rows)
}

// dfImageRows are the images of `df -v`: each under its first name only.
func dfImageRows(du engine.DiskUsage, trunc bool) []any {
	rows := make([]any, 0, len(du.Images))
	for _, img := range du.Images {
		repo, tag := "<none>", "<none>"
		if len(img.RepoTags) > 0 && !dangling(img) {
			if r, err := reference.ParseNoDefaultTag(img.RepoTags[0]); err == nil && reference.Tag(r) != "" {
				repo, tag = reference.FamiliarRepository(r), reference.Tag(r)
			}
		}
		rows = append(rows, &imageRow{img: img, trunc: trunc, repo: repo, tag: tag})
	}
	return rows
}

func writeDiskUsageVerbose(w io.Writer, du engine.DiskUsage, tmpl string) error {
	if tmpl != "" && tmpl != format.TableKey {
		t, err := format.Parse(tmpl)
		if err != nil {
			return err
		}
		data := struct{ Images, Containers, Volumes, BuildCache []any }{
			Images: dfImageRows(du, false), Containers: dfContainerRows(du.Containers, false), Volumes: dfVolumeRows(du.Volumes),
		}
		return t.Execute(w, data)
	}
	sections := []struct {
		title  string
		format format.Format
		header format.Header
		rows   []any
	}{
		{"Images space usage:\n\n", dfImageTableFormat, imageHeader, dfImageRows(du, true)},
		{"\nContainers space usage:\n\n", dfContainerTableFormat, dfContainerHeader, dfContainerRows(du.Containers, true)},
		{"\nLocal Volumes space usage:\n\n", dfVolumeTableFormat, dfVolumeHeader, dfVolumeRows(du.Volumes)},
		{"\nBuild cache usage: " + format.HumanSize(du.BuildCache.Size) + "\n\n", dfBuildCacheTableFormat, dfBuildCacheHeader, nil},
	}
	for _, s := range sections {
		if _, err := io.WriteString(w, s.title); err != nil {
			return err
		}
		if err := format.Write(w, s.format, s.header, s.rows); err != nil {
			return err
		}
	}
	return nil
}
