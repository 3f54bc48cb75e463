package cli

import (
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/cli/format"
	"github.com/strata-containers/strata/internal/engine"
	"github.com/strata-containers/strata/internal/errdefs"
)

type buildFlags struct {
	tags, buildArgs, labels listFlag
	file, target, iidfile   string
	network, platform       string
	noCache, pull, quiet    bool
}

// addBuildCommands adds `build`, `image build` and `builder` to root.
func (c *cli) addBuildCommands(root *cobra.Command, lookupEnv func(string) (string, bool)) {
	build := c.newBuildCommand("build", lookupEnv)
	build.Annotations[annotTop] = "4" // docker's place: after ps, before pull
	root.AddCommand(build, c.newBuilderCommand(lookupEnv))
	for _, cmd := range root.Commands() {
		if cmd.Name() == "image" {
			cmd.AddCommand(c.newBuildCommand("build", lookupEnv))
		}
	}
}

// newBuildCommand is `build`: Docker's classic builder output, step by step.
func (c *cli) newBuildCommand(verb string, lookupEnv func(string) (string, bool)) *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:         verb + " [OPTIONS] PATH | -",
		Short:       "Build an image from a Dockerfile",
		Args:        exactArgs(1),
		Annotations: map[string]string{annotAliases: "strata image build, strata build, strata builder build"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := f.options(args[0], lookupEnv)
			if err != nil {
				return err
			}
			opts.Stdin = c.In
			if !f.quiet {
				opts.Out = c.Out
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				res, err := e.ImageBuild(cmd.Context(), opts)
				if err != nil {
					return err
				}
				return c.reportBuild(res, f)
			})
		},
	}
	fl := cmd.Flags()
	fl.VarP(&f.tags, "tag", "t", `Name and optionally a tag in the "name:tag" format`)
	fl.Var(&f.buildArgs, "build-arg", "Set build-time variables")
	fl.Var(&f.labels, "label", "Set metadata for an image")
	fl.StringVarP(&f.file, "file", "f", "", `Name of the Dockerfile (Default is "PATH/Dockerfile")`)
	fl.StringVar(&f.target, "target", "", "Set the target build stage to build")
	fl.StringVar(&f.iidfile, "iidfile", "", "Write the image ID to the file")
	fl.StringVar(&f.network, "network", "", `Set the networking mode for the RUN instructions during build ("bridge", "host", "none")`)
	fl.StringVar(&f.platform, "platform", "", "Set platform if server is multi-platform capable")
	fl.BoolVar(&f.noCache, "no-cache", false, "Do not use cache when building the image")
	fl.BoolVar(&f.pull, "pull", false, "Always attempt to pull a newer version of the image")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "Suppress the build output and print image ID on success")
	return cmd
}

func (f *buildFlags) options(context string, lookupEnv func(string) (string, bool)) (engine.BuildOptions, error) {
	opts := engine.BuildOptions{
		Context: context, Dockerfile: f.file, Tags: f.tags.values, Target: f.target,
		NoCache: f.noCache, Pull: f.pull, Network: f.network,
		BuildArgs: map[string]string{}, Labels: map[string]string{},
	}
	if f.platform != "" && f.platform != "linux/"+hostArch() {
		return opts, errdefs.Invalid("platform %q not supported: only the host's (linux/%s)", f.platform, hostArch())
	}
	for _, kv := range f.buildArgs.values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			// A bare KEY takes its value from the environment, or is unset.
			if v, ok = lookupEnv(k); !ok {
				continue
			}
		}
		opts.BuildArgs[k] = v
	}
	for _, kv := range f.labels.values {
		k, v, _ := strings.Cut(kv, "=")
		opts.Labels[k] = v
	}
	if s, ok := lookupEnv("SOURCE_DATE_EPOCH"); ok && s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return opts, errdefs.Invalid("invalid SOURCE_DATE_EPOCH %q: %w", s, err)
		}
		t := time.Unix(n, 0).UTC()
		opts.SourceDateEpoch = &t
	}
	return opts, nil
}

func (c *cli) reportBuild(res engine.BuildResult, f buildFlags) error {
	if f.iidfile != "" {
		if err := os.WriteFile(f.iidfile, []byte(res.ID.String()), 0o644); err != nil {
			return fmt.Errorf("writing image ID to %s: %w", f.iidfile, err)
		}
	}
	if f.quiet {
		_, err := fmt.Fprintln(c.Out, res.ID)
		return err
	}
	fmt.Fprintf(c.Out, "Successfully built %s\n", res.ID.Encoded()[:12])
	for _, t := range res.Tags {
		fmt.Fprintf(c.Out, "Successfully tagged %s\n", t)
	}
	return nil
}

// newBuilderCommand is `builder` with `build` and `prune`.
func (c *cli) newBuilderCommand(lookupEnv func(string) (string, bool)) *cobra.Command {
	cmd := &cobra.Command{Use: "builder", Short: "Manage builds", Args: noArgs, RunE: showHelp(c.Err)}
	var all, force bool
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Remove build cache",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !c.confirm("WARNING! This will remove all build cache.\nAre you sure you want to continue?") {
				return nil
			}
			return c.withEngine(cmd.Context(), func(e *engine.Engine) error {
				reclaimed, err := c.pruneBuildCache(cmd, e, true)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.Out, "Total reclaimed space:", format.HumanSize(reclaimed))
				return nil
			})
		},
	}
	prune.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused build cache, not just dangling ones")
	prune.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.AddCommand(c.newBuildCommand("build", lookupEnv), prune)
	return cmd
}

func hostArch() string { return goruntime.GOARCH }
