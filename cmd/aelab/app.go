package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/aelab/aelab/models"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1   // the command could not do its work
	exitUsage       = 2   // the command line is wrong
	exitInterrupted = 130 // stopped by Ctrl-C (128 + SIGINT)
)

// usageError marks errors in the command line (flags, arguments).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// settingError turns a setting the library refuses (a *models.SettingError) into a
// command-line error naming its flag: the setting in kebab case, or renamed[setting].
func settingError(err error, renamed map[string]string) error {
	var se *models.SettingError
	if !errors.As(err, &se) {
		return err
	}
	flag, ok := renamed[se.Setting]
	if !ok {
		flag = strings.ReplaceAll(se.Setting, "_", "-")
	}
	return usagef("--%s %s", flag, se.Problem)
}

// streams are where a command writes: results to Out, progress and logs to Err; and the
// CUDA runner that commands wanting a GPU are handed to (nil in a build with CUDA, or
// where there is none).
type streams struct {
	Out, Err io.Writer
	runner   *cudaRunner
}

// run runs the app on args and returns the exit code; errors are printed as one line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, syscall.Exec)
}

// runWith is run with the function that hands a command to the CUDA runner.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, execFn func(string, []string, []string) error) int {
	app := newApp(streams{Out: stdout, Err: stderr, runner: findRunner(args, execFn)})
	err := app.RunContext(ctx, args)
	if err == nil || errors.Is(err, errHandedOff) {
		return exitOK
	}
	fmt.Fprintf(stderr, "aelab: %s\n", oneLine(err.Error()))
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, models.ErrInterrupted):
		return exitInterrupted
	}
	return exitFailure
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// newApp declares the commands.
func newApp(s streams) *cli.App {
	app := &cli.App{
		Name:      "aelab",
		Usage:     "train autoencoders on MNIST and show what they learn",
		Version:   models.Version,
		Writer:    s.Out,
		ErrWriter: s.Err,
		Commands: []*cli.Command{
			experimentCommand(s),
			trainCommand(s),
			pretrainCommand(s),
			finetuneCommand(s),
			evalCommand(s),
			reconstructCommand(s),
			interpolateCommand(s),
			walkCommand(s),
			samplesCommand(s),
			infoCommand(s),
			dataCommand(s),
			devicesCommand(s),
			benchCommand(s),
		},
		// Errors are printed once, by run; urfave/cli must not print or exit.
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError:    onUsageError,
		HideHelpCommand: true,
		Action:          unknownCommand,
	}
	for _, c := range app.Commands {
		setUsageHandler(c)
		c.Action = noArguments(c.Action)
		for _, f := range c.Flags {
			hideDefault(f)
		}
		attachHandOff(c, s)
	}
	return app
}

// attachHandOff makes c and its subcommands (samples score) that take --device hand their
// work to the CUDA runner where one is wanted.
func attachHandOff(c *cli.Command, s streams) {
	for _, f := range c.Flags {
		if f.Names()[0] == "device" {
			c.Before = handOff(s)
		}
	}
	for _, sub := range c.Subcommands {
		attachHandOff(sub, s)
	}
}

// unknownCommand is the app's own action: with no command it shows the help; with a word
// that is no command it names the nearest one.
func unknownCommand(c *cli.Context) error {
	if !c.Args().Present() {
		return cli.ShowAppHelp(c)
	}
	name := c.Args().First()
	return usagef("unknown command %q. %s (see aelab --help)", name, cli.SuggestCommand(c.App.Commands, name))
}

// noArguments refuses words after a command that takes only flags, which would otherwise be
// ignored without a word (aelab reconstruct --model m out.png writing reconstructions.png).
func noArguments(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Args().Present() {
			return usagef("%s takes no arguments, but was given %q; every input is a flag (see aelab %s --help)",
				c.Command.Name, strings.Join(c.Args().Slice(), " "), c.Command.Name)
		}
		return action(c)
	}
}

// hideDefault keeps urfave/cli from appending "(default: false)" to every switch. (Other
// flags whose default is not their value say it with DefaultText.)
func hideDefault(f cli.Flag) {
	if b, ok := f.(*cli.BoolFlag); ok {
		b.DisableDefaultText = true
	}
}

func setUsageHandler(c *cli.Command) {
	c.OnUsageError = onUsageError
	for _, sub := range c.Subcommands {
		setUsageHandler(sub)
	}
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	help := strings.TrimSpace("aelab " + c.Command.FullName())
	if flag, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		suggestion := ""
		if near := cli.SuggestFlag(c.Command.Flags, strings.TrimLeft(flag, "-"), true); near != "" {
			suggestion = fmt.Sprintf(" %s", fmt.Sprintf(cli.SuggestDidYouMeanTemplate, near))
		}
		return usagef("%s: unknown flag --%s.%s (see %s --help)", c.Command.FullName(), strings.TrimLeft(flag, "-"), suggestion, help)
	}
	return usagef("%s: %v (see %s --help)", c.Command.FullName(), err, help)
}
