package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// ImageInspect is `docker image inspect`'s object (API 1.43 without the
// fields deprecated since). Field names are docker's JSON keys.
type ImageInspect struct {
	ID            string `json:"Id"`
	RepoTags      []string
	RepoDigests   []string
	Parent        string
	Comment       string
	Created       string
	DockerVersion string
	Author        string
	Config        *ContainerConfig
	Architecture  string
	Variant       string `json:",omitempty"`
	Os            string
	OsVersion     string `json:",omitempty"`
	Size          int64
	GraphDriver   GraphDriverData
	RootFS        RootFS
	Metadata      ImageMetadata
}

// ContainerConfig is the "config" of an image config in docker's shape
// (docker's container.Config); OCI configs fill the subset they have.
type ContainerConfig struct {
	Hostname        string
	Domainname      string
	User            string
	AttachStdin     bool
	AttachStdout    bool
	AttachStderr    bool
	ExposedPorts    map[string]struct{} `json:",omitempty"`
	Tty             bool
	OpenStdin       bool
	StdinOnce       bool
	Env             []string
	Cmd             StrSlice
	Healthcheck     json.RawMessage `json:",omitempty"`
	ArgsEscaped     bool            `json:",omitempty"`
	Image           string
	Volumes         map[string]struct{}
	WorkingDir      string
	Entrypoint      StrSlice
	NetworkDisabled bool   `json:",omitempty"`
	MacAddress      string `json:",omitempty"`
	OnBuild         []string
	Labels          map[string]string
	StopSignal      string   `json:",omitempty"`
	StopTimeout     *int     `json:",omitempty"`
	Shell           StrSlice `json:",omitempty"`
}

// StrSlice is a list of strings that old configs may store as one string.
type StrSlice []string

// UnmarshalJSON accepts a string or an array of strings.
func (s *StrSlice) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = StrSlice{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// GraphDriverData says where the image's layers are on disk.
type GraphDriverData struct {
	Data map[string]string
	Name string
}

// RootFS lists the image's layers by diff ID.
type RootFS struct {
	Type   string
	Layers []string `json:",omitempty"`
}

// ImageMetadata is what the store knows beyond the config.
type ImageMetadata struct {
	LastTagTime time.Time `json:",omitempty"`
}

// rawConfig is the part of an image config that inspect shows and
// image.Config does not model (Docker's extensions), read from the blob.
type rawConfig struct {
	Config        *ContainerConfig `json:"config"`
	DockerVersion string           `json:"docker_version"`
	Comment       string           `json:"comment"`
	Created       *time.Time       `json:"created"`
}

// ImageInspect returns what `docker image inspect` shows of name.
func (e *Engine) ImageInspect(ctx context.Context, name string) (ImageInspect, error) {
	defer e.shared()()
	img, err := e.images.Resolve(ctx, name)
	if err != nil {
		return ImageInspect{}, err
	}
	d, err := e.readImage(ctx, img)
	if err != nil {
		return ImageInspect{}, err
	}
	blob, err := e.content.ReadAll(ctx, d.manifest.Config.Digest)
	if err != nil {
		return ImageInspect{}, fmt.Errorf("image %s: reading config: %w", shortID(img.ID), err)
	}
	var raw rawConfig
	if err := json.Unmarshal(blob, &raw); err != nil {
		return ImageInspect{}, fmt.Errorf("image %s: parsing config: %w", shortID(img.ID), err)
	}
	return e.inspect(ctx, d, raw)
}

func (e *Engine) inspect(ctx context.Context, d *imageData, raw rawConfig) (ImageInspect, error) {
	out := ImageInspect{
		ID: d.ID.String(), RepoTags: orEmpty(d.RepoTags), RepoDigests: orEmpty(d.RepoDigests),
		Parent: d.Parent.String(), Comment: raw.Comment, DockerVersion: raw.DockerVersion,
		Author: d.config.Author, Config: raw.Config,
		Architecture: d.config.Architecture, Variant: d.config.Variant,
		Os: d.config.OS, OsVersion: d.config.OSVersion,
		GraphDriver: GraphDriverData{Name: e.layers.Driver()},
		RootFS:      RootFS{Type: d.config.RootFS.Type},
		Metadata:    ImageMetadata{LastTagTime: d.LastTagTime},
	}
	if raw.Created != nil {
		out.Created = raw.Created.Format(time.RFC3339Nano)
	}
	for _, id := range d.config.RootFS.DiffIDs {
		out.RootFS.Layers = append(out.RootFS.Layers, id.String())
	}
	sizes, err := e.layerSizes(ctx)
	if err != nil {
		return out, err
	}
	out.Size = d.size(sizes)
	out.GraphDriver.Data = e.graphData(d.chainIDs)
	return out, nil
}

// graphData is overlay's view of the image as docker shows it: the top
// layer as UpperDir and the others, top first, as LowerDir. vfs, like
// docker's, has nothing to say.
func (e *Engine) graphData(chain []digest.Digest) map[string]string {
	if e.layers.Driver() != "overlay" || len(chain) == 0 {
		return nil
	}
	data := map[string]string{"UpperDir": e.layers.Dir(chain[len(chain)-1])}
	var lower []string
	for i := len(chain) - 2; i >= 0; i-- {
		lower = append(lower, e.layers.Dir(chain[i]))
	}
	if len(lower) > 0 {
		data["LowerDir"] = strings.Join(lower, ":")
	}
	return data
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// HistoryItem is one line of `docker history`, newest first.
type HistoryItem struct {
	ID        string `json:"Id"` // the image ID where known locally, else "<missing>"
	Created   int64  // Unix seconds
	CreatedBy string
	Tags      []string
	Size      int64
	Comment   string
}

// ImageHistory returns the history of name, newest entry first. Entries
// that made a layer carry its size; the newest carries the image's ID and
// tags, and its local ancestors theirs, as in docker.
func (e *Engine) ImageHistory(ctx context.Context, name string) ([]HistoryItem, error) {
	defer e.shared()()
	img, err := e.images.Resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	d, err := e.readImage(ctx, img)
	if err != nil {
		return nil, err
	}
	sizes, err := e.layerSizes(ctx)
	if err != nil {
		return nil, err
	}
	items, err := historyItems(d, sizes)
	if err != nil {
		return nil, err
	}
	e.nameAncestors(ctx, d, items)
	return items, nil
}

func historyItems(d *imageData, sizes map[digest.Digest]int64) ([]HistoryItem, error) {
	var items []HistoryItem
	layer := 0
	for _, h := range d.config.History {
		item := HistoryItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer {
			if layer >= len(d.chainIDs) {
				return nil, fmt.Errorf("image %s: too many non-empty layers in history", shortID(d.ID))
			}
			item.Size = sizes[d.chainIDs[layer]]
			layer++
		}
		items = append(items, item)
	}
	slices.Reverse(items)
	return items, nil
}

// nameAncestors fills the IDs and tags of the newest entries: the image's,
// then its parent's, as far as the parents are known here.
func (e *Engine) nameAncestors(ctx context.Context, d *imageData, items []HistoryItem) {
	img := d.Image
	for i := range items {
		items[i].ID = img.ID.String()
		items[i].Tags = img.RepoTags
		if img.Parent == "" {
			return
		}
		parent, err := e.images.Get(ctx, img.Parent)
		if err != nil {
			return
		}
		img = parent
	}
}
