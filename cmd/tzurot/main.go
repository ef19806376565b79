// Command tzurot is the one binary of the system: the Temporal worker, the
// Discord bot, the schema and data migrations, the operator's key rotation,
// the payload codec server and, built with -tags dev (`make dev`), the local
// dev stack. Each command lives in its own file; they only parse flags and
// call into packages.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tzurot:", err)
		os.Exit(1)
	}
}

// run executes the command line args (without the program name); help goes
// to stdout, logs to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRoot(stdout, stderr)
	root.SetArgs(goStyleFlags(args))
	return root.ExecuteContext(ctx)
}

// goStyleFlags rewrites Go-style long flags (-addr, -batch-size=5) as
// --addr, --batch-size=5: the commands were written with Go's flag package,
// which takes both, and scripts keep working. No command has one-letter
// flags but -h, which is left alone; nothing after "--" is touched.
func goStyleFlags(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(name) > 1 {
			out[i] = "-" + a
		}
	}
	return out
}
