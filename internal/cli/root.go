// Package cli is strata's command line: docker-compatible cobra commands
// over the engine, one file per command family, with docker's flags,
// output and exit codes.
//
// Commands are thin: parse flags, call one engine method, render the result
// (through cli/format for tables and templates). User-facing output comes
// only from here; the engine returns data. Errors are mapped to exit codes
// in one place, errors.go.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/strata-containers/strata/internal/config"
	"github.com/strata-containers/strata/internal/engine"
)

// Streams are the standard streams commands read and write.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// cli is the state every command shares: streams and configuration.
type cli struct {
	Streams
	cfg config.Config
}

// NewRootCommand builds the strata command tree. lookupEnv is how the
// configuration reads the environment (os.LookupEnv in the binary).
func NewRootCommand(s Streams, lookupEnv func(string) (string, bool)) *cobra.Command {
	c := &cli{Streams: s, cfg: config.Load(lookupEnv)}
	var showVersion bool
	root := &cobra.Command{
		Use:               "strata [OPTIONS] COMMAND [ARG...]",
		Short:             "A self-sufficient runtime for containers",
		SilenceUsage:      true,
		SilenceErrors:     true,
		Args:              rootArgs,
		PersistentPreRunE: c.setup,
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				fmt.Fprintf(c.Out, "strata version %s, build %s\n", Version, buildInfo().commit)
				return nil
			}
			return showHelp(c.Err)(cmd, args)
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetUsageFunc(usage)
	root.SetHelpFunc(help)
	root.SetFlagErrorFunc(flagError)

	pf := root.PersistentFlags()
	pf.StringVar(&c.cfg.Root, "root", c.cfg.Root, "Root of persistent state ($"+config.EnvRoot+")")
	pf.StringVar(&c.cfg.RunRoot, "runroot", c.cfg.RunRoot, "Root of runtime state")
	// No -l shorthand: the global flags are persistent here (docker's work
	// only before the verb), and -l belongs to `run --label` and `ps --latest`.
	pf.StringVar(&c.cfg.LogLevel, "log-level", c.cfg.LogLevel, `Set the logging level ("debug", "info", "warn", "error")`)
	pf.StringVar(&c.cfg.StorageDriver, "storage-driver", c.cfg.StorageDriver,
		`Storage driver: "overlay" or "vfs" ($`+config.EnvStorageDriver+`)`)
	pf.StringVar(&c.cfg.UsernsRemap, "userns-remap", c.cfg.UsernsRemap, "Default --userns-remap of new containers")
	// Commands that need -h for themselves (`run -h HOSTNAME`) define their
	// own --help without it, as docker's do; this one is then skipped there.
	pf.BoolP("help", "h", false, "Print usage")
	_ = pf.MarkHidden("help")
	root.Flags().BoolVarP(&showVersion, "version", "v", false, "Print version information and quit")

	root.AddCommand(
		c.newImageCommand(), c.newSystemCommand(),
		c.newImagesCommand("images", "7"), c.newVersionCommand(), c.newInfoCommand(),
		c.newHistoryCommand("history"), c.newImportCommand("import"), c.newInspectCommand(),
		c.newLoadCommand("load"), c.newRemoveCommand("rmi"), c.newSaveCommand("save"),
		c.newTagCommand("tag"), c.newVolumeCommand(),
		c.newNetworkCommand(), c.newPortCommand(),
	)
	c.addRegistryCommands(root, lookupEnv)
	root.AddCommand(c.containerCommands(lookupEnv)...)
	root.AddCommand(c.newRuntimeCommand())
	c.addBuildCommands(root, lookupEnv)
	visit(root, func(cmd *cobra.Command) { cmd.DisableFlagsInUseLine = true })
	return root
}

func visit(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, sub := range cmd.Commands() {
		visit(sub, fn)
	}
}

func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return notACommand(cmd, args[0])
}

// showHelp is the action of a command that only groups others: print help
// to w (stderr, as docker does) and succeed.
func showHelp(w io.Writer) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		cmd.SetOut(w)
		cmd.HelpFunc()(cmd, args)
		return nil
	}
}

// setup finishes the configuration once the flags are parsed.
func (c *cli) setup(cmd *cobra.Command, _ []string) error {
	cfg, err := c.cfg.Absolute()
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	c.cfg = cfg
	slog.SetDefault(slog.New(slog.NewTextHandler(c.Err, &slog.HandlerOptions{Level: cfg.SlogLevel()})))
	return nil
}

// withEngine opens the engine for the duration of fn.
func (c *cli) withEngine(ctx context.Context, fn func(*engine.Engine) error) error {
	e, err := engine.New(ctx, c.cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	return fn(e)
}

// isTerminal reports whether the stream is a terminal.
func isTerminal(v any) bool {
	f, ok := v.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
