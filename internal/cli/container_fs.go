package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

// fsVerbs are pause, unpause and the commands that read or write a
// container's filesystem: diff, commit, export, cp.
func (cc *containerCLI) fsVerbs() []*cobra.Command {
	return []*cobra.Command{
		cc.newPauseCommand(), cc.newUnpauseCommand(), cc.newDiffCommand(),
		cc.newCommitCommand(), cc.newExportCommand(), cc.newCpCommand(),
	}
}

func (cc *containerCLI) newExportCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [OPTIONS] CONTAINER",
		Short: "Export a container's filesystem as a tar archive",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" && isTerminal(cc.Out) {
				return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
			}
			catchBrokenPipe()
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				if output != "" {
					return e.ContainerExportFile(cmd.Context(), args[0], output)
				}
				w := bufio.NewWriterSize(cc.Out, 1<<20)
				if err := e.ContainerExport(cmd.Context(), args[0], w); err != nil {
					return err
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

func (cc *containerCLI) newCommitCommand() *cobra.Command {
	var opts engine.CommitOptions
	changes := &listFlag{}
	cmd := &cobra.Command{
		Use:   "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		Short: "Create a new image from a container's changes",
		Args:  rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Changes = changes.values
			if len(args) == 2 {
				opts.Ref = args[1]
			}
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				id, err := e.ContainerCommit(cmd.Context(), args[0], opts)
				if err != nil {
					return err
				}
				fmt.Fprintln(cc.Out, id)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Author, "author", "a", "", `Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")`)
	fl.VarP(changes, "change", "c", "Apply Dockerfile instruction to the created image")
	fl.StringVarP(&opts.Message, "message", "m", "", "Commit message")
	fl.BoolVarP(&opts.Pause, "pause", "p", true, "Pause container during commit")
	return cmd
}

func (cc *containerCLI) newDiffCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "diff CONTAINER",
		Short: "Inspect changes to files or directories on a container's filesystem",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.withEngine(cmd.Context(), func(e *engine.Engine) error {
				changes, err := e.ContainerDiff(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				w := bufio.NewWriter(cc.Out)
				for _, c := range changes {
					fmt.Fprintln(w, c)
				}
				return w.Flush()
			})
		},
	}
}

func (cc *containerCLI) newPauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER [CONTAINER...]",
		Short: "Pause all processes within one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				return e.ContainerPause(cmd.Context(), ref)
			})
		},
	}
}

func (cc *containerCLI) newUnpauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unpause CONTAINER [CONTAINER...]",
		Short: "Unpause all processes within one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.eachContainer(cmd, args, func(e *engine.Engine, ref string) error {
				return e.ContainerUnpause(cmd.Context(), ref)
			})
		},
	}
}

// catchBrokenPipe makes a write to a closed stdout (`export | head`) fail
// with EPIPE instead of killing the process with SIGPIPE, so that what the
// command mounted is unmounted on the way out.
func catchBrokenPipe() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

func (cc *containerCLI) newCpCommand() *cobra.Command {
	var opts engine.CopyOptions
	var quiet bool
	cmd := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tstrata cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cc.copy(cmd, args[0], args[1], opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.CopyUIDGID, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	fl.BoolVarP(&opts.FollowLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress progress output during copy")
	return cmd
}

// copy dispatches cp by which side names a container.
func (cc *containerCLI) copy(cmd *cobra.Command, src, dst string, opts engine.CopyOptions) error {
	srcCtr, srcPath := splitCopyArg(src)
	dstCtr, dstPath := splitCopyArg(dst)
	switch {
	case srcPath == "":
		return errdefs.Invalid("source can not be empty")
	case dstPath == "":
		return errdefs.Invalid("destination can not be empty")
	case srcCtr != "" && dstCtr != "":
		return errdefs.Invalid("copying between containers is not supported")
	case srcCtr == "" && dstCtr == "":
		return errdefs.Invalid("must specify at least one container source")
	}
	ctx := cmd.Context()
	return cc.withEngine(ctx, func(e *engine.Engine) error {
		switch {
		case srcCtr != "" && dstPath == "-":
			catchBrokenPipe()
			w := bufio.NewWriterSize(cc.Out, 1<<20)
			if err := e.ContainerArchive(ctx, srcCtr, srcPath, opts, w); err != nil {
				return err
			}
			return w.Flush()
		case srcCtr != "":
			return e.ContainerCopyFrom(ctx, srcCtr, srcPath, dstPath, opts)
		case srcPath == "-":
			return e.ContainerExtract(ctx, dstCtr, dstPath, cc.In, opts)
		}
		return e.ContainerCopyTo(ctx, dstCtr, srcPath, dstPath, opts)
	})
}

// splitCopyArg splits CONTAINER:PATH as docker does: an absolute path, or
// one whose part before ":" starts with ".", is local.
func splitCopyArg(arg string) (container, path string) {
	if strings.HasPrefix(arg, "/") {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, p
}
