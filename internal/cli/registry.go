package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-containers/strata/internal/config"
	"github.com/strata-containers/strata/internal/engine"
)

// addRegistryCommands adds pull, push, login and logout to root, and pull
// and push to its image command. lookupEnv resolves the docker config
// directory and strata's registries file.
func (c *cli) addRegistryCommands(root *cobra.Command, lookupEnv func(string) (string, bool)) {
	rc := &registryCLI{cli: c, lookupEnv: lookupEnv}
	// Ranks among the common commands are docker's.
	root.AddCommand(rc.newPullCommand("5"), rc.newPushCommand("6"), rc.newLoginCommand("8"), rc.newLogoutCommand("9"))
	for _, sub := range root.Commands() {
		if sub.Name() == "image" {
			sub.AddCommand(rc.newPullCommand(""), rc.newPushCommand(""))
		}
	}
}

// annotations are a command's: its aliases, and its rank among the root's
// common commands unless top is "".
func annotations(aliases, top string) map[string]string {
	a := map[string]string{annotAliases: aliases}
	if top != "" {
		a[annotTop] = top
	}
	return a
}

type registryCLI struct {
	*cli
	lookupEnv func(string) (string, bool)
}

// options reads the registries file and resolves the docker config dir.
func (r *registryCLI) options(tlsVerify bool) (engine.RegistryOptions, error) {
	regs, err := config.LoadRegistries(config.RegistriesFile(r.lookupEnv))
	if err != nil {
		return engine.RegistryOptions{}, err
	}
	return engine.RegistryOptions{
		DockerConfigDir: config.DockerConfigDir(r.lookupEnv),
		Registries:      regs,
		SkipTLSVerify:   !tlsVerify,
	}, nil
}

func (r *registryCLI) newPullCommand(top string) *cobra.Command {
	var opts engine.PullOptions
	var quiet bool
	tlsVerify := true
	cmd := &cobra.Command{
		Use:         "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short:       "Download an image from a registry",
		Args:        exactArgs(1),
		Annotations: annotations("strata image pull, strata pull", top),
		RunE: func(cmd *cobra.Command, args []string) error {
			ro, err := r.options(tlsVerify)
			if err != nil {
				return err
			}
			opts.Registry = ro
			if !quiet {
				opts.Progress, opts.ProgressBytes = progressOutput(r.Out)
			}
			return r.withEngine(cmd.Context(), func(e *engine.Engine) error {
				return r.pull(cmd, e, args[0], opts, quiet)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.AllTags, "all-tags", "a", false, "Download all tagged images in the repository")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	fl.StringVar(&opts.Platform, "platform", "", "Set platform if server is multi-platform capable")
	fl.BoolVar(&tlsVerify, "tls-verify", true, "Require HTTPS and verify certificates when contacting registries")
	return cmd
}

// pull runs one pull and prints docker's summary lines.
func (r *registryCLI) pull(cmd *cobra.Command, e *engine.Engine, name string, opts engine.PullOptions, quiet bool) error {
	pulled, err := e.ImagePull(cmd.Context(), name, opts)
	if err != nil {
		return err
	}
	for _, p := range pulled {
		if !quiet {
			fmt.Fprintf(r.Out, "Digest: %s\n", p.Digest)
			if p.UpToDate {
				fmt.Fprintf(r.Out, "Status: Image is up to date for %s\n", p.Ref)
			} else {
				fmt.Fprintf(r.Out, "Status: Downloaded newer image for %s\n", p.Ref)
			}
		}
		fmt.Fprintln(r.Out, p.FullRef)
	}
	return nil
}

func (r *registryCLI) newPushCommand(top string) *cobra.Command {
	var opts engine.PushOptions
	var quiet bool
	tlsVerify := true
	cmd := &cobra.Command{
		Use:         "push [OPTIONS] NAME[:TAG]",
		Short:       "Upload an image to a registry",
		Args:        exactArgs(1),
		Annotations: annotations("strata image push, strata push", top),
		RunE: func(cmd *cobra.Command, args []string) error {
			ro, err := r.options(tlsVerify)
			if err != nil {
				return err
			}
			opts.Registry = ro
			if !quiet {
				opts.Progress, opts.ProgressBytes = progressOutput(r.Out)
			}
			return r.withEngine(cmd.Context(), func(e *engine.Engine) error {
				pushed, err := e.ImagePush(cmd.Context(), args[0], opts)
				for _, p := range pushed {
					fmt.Fprintf(r.Out, "%s: digest: %s size: %d\n", p.Tag, p.Digest, p.Size)
				}
				return err
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&opts.AllTags, "all-tags", "a", false, "Push all tags of an image to the repository")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	fl.BoolVar(&tlsVerify, "tls-verify", true, "Require HTTPS and verify certificates when contacting registries")
	return cmd
}

func (r *registryCLI) newLoginCommand(top string) *cobra.Command {
	var opts engine.LoginOptions
	var stdin bool
	tlsVerify := true
	cmd := &cobra.Command{
		Use:         "login [OPTIONS] [SERVER]",
		Short:       "Log in to a registry",
		Args:        rangeArgs(0, 1),
		Annotations: map[string]string{annotTop: top},
		RunE: func(cmd *cobra.Command, args []string) error {
			ro, err := r.options(tlsVerify)
			if err != nil {
				return err
			}
			opts.Registry = ro
			if stdin {
				if opts.Password, err = r.passwordFromStdin(opts.Password); err != nil {
					return err
				}
			}
			if opts.Username == "" || opts.Password == "" {
				return errors.New("username and password required (use --username and --password-stdin)")
			}
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			if _, err := engine.Login(cmd.Context(), server, opts); err != nil {
				return err
			}
			fmt.Fprintln(r.Out, "Login Succeeded")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Username, "username", "u", "", "Username")
	fl.StringVarP(&opts.Password, "password", "p", "", "Password or Personal Access Token (PAT)")
	fl.BoolVar(&stdin, "password-stdin", false, "Take the Password or Personal Access Token (PAT) from stdin")
	fl.BoolVar(&tlsVerify, "tls-verify", true, "Require HTTPS and verify certificates when contacting registries")
	return cmd
}

// passwordFromStdin reads --password-stdin's first line.
func (r *registryCLI) passwordFromStdin(flag string) (string, error) {
	if flag != "" {
		return "", errors.New("--password and --password-stdin are mutually exclusive")
	}
	line, err := bufio.NewReader(r.In).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (r *registryCLI) newLogoutCommand(top string) *cobra.Command {
	return &cobra.Command{
		Use:         "logout [SERVER]",
		Short:       "Log out from a registry",
		Args:        rangeArgs(0, 1),
		Annotations: map[string]string{annotTop: top},
		RunE: func(cmd *cobra.Command, args []string) error {
			ro, err := r.options(true)
			if err != nil {
				return err
			}
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			host, err := engine.Logout(cmd.Context(), server, ro)
			if err != nil {
				return err
			}
			fmt.Fprintf(r.Out, "Removing login credentials for %s\n", host)
			return nil
		},
	}
}
