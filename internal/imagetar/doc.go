// Package imagetar moves images in and out of the stores as archives: the
// `docker save`/`docker load` formats, OCI image layouts, and root
// filesystem tarballs (`docker import`).
//
// Formats read by Load and LoadDir (an archive may be gzip or zstd
// compressed; that is sniffed, never guessed from a name):
//
//	classic docker save (Docker < 25, skopeo docker-archive:)
//	    manifest.json                [{"Config": "<id>.json", "RepoTags": [...], "Layers": ["<v1id>/layer.tar", ...]}]
//	    repositories                 {"name": {"tag": "<v1id>"}} (ignored)
//	    <id>.json                    image config
//	    <v1id>/layer.tar             uncompressed layer (may be a symlink to another one)
//	    <v1id>/json, <v1id>/VERSION  v1 metadata (ignored)
//
//	OCI image layout (umoci, skopeo oci:, buildkit)
//	    oci-layout                   {"imageLayoutVersion": "1.0.0"}
//	    index.json                   manifests (or nested indexes), named by annotations
//	    blobs/sha256/<hex>           every blob, by digest
//
//	Docker >= 25 save: both of the above at once. Save writes exactly this:
//	    blobs/sha256/<diffID hex>    uncompressed layer tars, each written once
//	    blobs/sha256/<config hex>    configs
//	    blobs/sha256/<manifest hex>  OCI manifests whose layers are the tars above
//	    index.json                   one entry per tag: io.containerd.image.name = full
//	                                 name, org.opencontainers.image.ref.name = tag;
//	                                 one entry without annotations for an untagged image
//	    manifest.json                classic view of the same blobs, for old loaders
//	    oci-layout, repositories
//
// Loading is one streaming pass: every file of the archive is ingested into
// the content store (or a staged layer, below) as it goes by (checked against its name's digest under
// blobs/), only the small top-level JSON files are kept in memory. At the end
// index.json is preferred over manifest.json; classic entries get an OCI
// manifest built and stored, so every loaded image has one. Then the layers
// are unpacked, and only then are the image records and tags written: a
// load that fails leaves no image half-visible, only unreferenced blobs and
// layers for the garbage collector.
//
// Uncompressed layer blobs are not kept: the layer store rebuilds each one
// byte for byte from its layer (unpack.LayerBlobs, which Save reads through).
// A blob whose layer is in the layer store already is only verified, never
// stored. On a driver that stacks layers (overlay) a file that looks like an
// uncompressed tar is unpacked straight from the archive into a staged
// layer (layer.Store.Stage), which hashes it once: its diffID is the blob's
// digest; it is committed under its chain ID when the manifest, usually
// last in the archive, names its parent, and dropped if no image uses it
// (see stage.go). Otherwise (vfs) layer blobs are stored while the archive
// streams by and deleted once the image records are written. Compressed
// blobs are kept, as are the tars the layer store cannot rebuild (see
// layer.Info.TarSplit): read again from the archive when it is a file, else
// from a copy the staging kept.
//
// Saving is deterministic: entries are written in a fixed order with fixed
// owners, modes and times, so saving the same images twice gives the same
// bytes, and a save -> load -> save round trip is byte-identical.
package imagetar
