package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every command of the tree answers --help with its usage line, its one-line
// description and each of its flags, and exits 0 without loading the
// configuration (an operator reads the help before setting anything).
func TestEveryCommandHasHelp(t *testing.T) {
	t.Setenv("APP_MASTER_KEY", "not a key: --help must not read the configuration")
	var walk func(c *cobra.Command, path []string)
	count := 0
	walk = func(c *cobra.Command, path []string) {
		count++
		var out, errOut bytes.Buffer
		args := append(append([]string{}, path...), "--help")
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Errorf("tzurot %s: %v", strings.Join(args, " "), err)
			return
		}
		help := out.String()
		for _, want := range []string{c.Use, c.Short} {
			if !strings.Contains(help, want) {
				t.Errorf("tzurot %s does not show %q:\n%s", strings.Join(args, " "), want, help)
			}
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(help, "--"+f.Name) || !strings.Contains(help, f.Usage) {
				t.Errorf("tzurot %s does not show --%s (%s):\n%s", strings.Join(args, " "), f.Name, f.Usage, help)
			}
		})
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				walk(s, append(append([]string{}, path...), s.Name()))
			}
		}
	}
	walk(newRoot(&bytes.Buffer{}, &bytes.Buffer{}), nil)
	// root, dev, worker, bot, keys, rotate, codec-server, migrate, up,
	// status, data, start, status, rollback, pause, resume, cancel,
	// temporal, setup, healthcheck.
	if count != 20 {
		t.Errorf("walked %d commands, want 20", count)
	}
}

// Mistakes are one-line errors that say what to do; flags go before or after
// the positional arguments, in Go's one-dash style too.
func TestCommandLineErrorsAndFlagPlacement(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `unknown command "nope" for tzurot: it has bot, codec-server, dev, healthcheck, keys, migrate, temporal, worker`},
		{[]string{"migrate"}, "tzurot migrate needs a command: data, status, up"},
		{[]string{"keys", "turn"}, `unknown command "turn" for tzurot keys: it has rotate`},
		{[]string{"migrate", "data", "pause"}, "usage: tzurot migrate data pause NAME"},
		{[]string{"migrate", "data", "start", "a", "b", "c"}, "usage: tzurot migrate data start NAME [DIR]"},
		{[]string{"migrate", "data", "start", "--discard-newer", "x"}, "unknown flag: --discard-newer"},
		{[]string{"migrate", "data", "start", "x", "--batch-size", "0"}, "--batch-size must be between 1 and 100000, got 0"},
		{[]string{"migrate", "data", "start", "-batch-size=0", "x"}, "--batch-size must be between 1 and 100000, got 0"},
		{[]string{"worker", "extra"}, "usage: tzurot worker"},
		{[]string{"help", "nosuch"}, `unknown command "nosuch" for tzurot: it has bot, codec-server, dev, healthcheck, keys, migrate, temporal, worker`},
		{[]string{"help", "migrate", "data", "nosuch"}, `unknown command "nosuch" for tzurot migrate data: it has cancel, pause, resume, rollback, start, status`},
		// Before any configuration is read or any connection made.
		{[]string{"migrate", "data", "start", "llm-config-jsonb", "extra"}, "usage: tzurot migrate data start NAME [DIR]: only shapes-import takes DIR, llm-config-jsonb takes no argument"},
		{[]string{"migrate", "data", "start", "nosuch"}, "no data migration is called nosuch: the migrations are shapes-import, llm-config-jsonb, error-messages, custom-fields, assign-ownership, contract-llm-configs"},
		{[]string{"migrate", "data", "status", "nosuch"}, "no data migration is called nosuch"},
		{[]string{"migrate", "data", "rollback", "nosuch"}, "no data migration is called nosuch"},
		{[]string{"migrate", "data", "pause", "nosuch"}, "no data migration is called nosuch"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("tzurot %s: %v, want one line containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

// `tzurot help COMMAND` shows the command's help, as --help does.
func TestHelpCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help", "migrate", "data", "start"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "start NAME [DIR]") || !strings.Contains(out.String(), "--batch-size") {
		t.Errorf("tzurot help migrate data start:\n%s", out.String())
	}
}

func TestGoStyleFlags(t *testing.T) {
	got := strings.Join(goStyleFlags([]string{"-addr", "x", "-h", "--force", "-batch-size=5", "--", "-keep"}), " ")
	if want := "--addr x -h --force --batch-size=5 -- -keep"; got != want {
		t.Errorf("goStyleFlags: %q, want %q", got, want)
	}
}
