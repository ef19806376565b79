// Package temporalsetup prepares a Temporal namespace for tzurot
// (`tzurot temporal setup`): the search attributes first, then the further
// steps, each safe to run again.
package temporalsetup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/retention"

	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/temporalclient"
)

// Step is one setup step after the search attributes: Run must be safe to
// run again (create what is missing, update what differs), and returns one
// line per thing it created, updated, left or deleted, saying why.
type Step struct {
	Name string
	Run  func(ctx context.Context, c client.Client, cfg config.Config) (report []string, err error)
}

// Steps are run in order after the search attributes are registered.
var Steps = []Step{
	{Name: "retention schedules", Run: retention.EnsureSchedules},
}

// DialWait is how long Run waits for Temporal to answer: docker-compose
// starts the setup service beside a dev server that takes seconds to listen
// (the temporalio/temporal image carries no shell for a healthcheck to
// rely on), so a connection refused at first is tried again, with backoff.
const DialWait = 90 * time.Second

// Run is `tzurot temporal setup`: it connects as every tzurot process does
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, APP_MASTER_KEY for the payload
// codec), trying again for up to DialWait while Temporal does not answer,
// registers the search attributes, then runs Steps, saying what each did on
// out. The first failing step ends it with its error.
func Run(ctx context.Context, cfg config.Config, out io.Writer, log *slog.Logger) error {
	exp := backoff.NewExponentialBackOff()
	exp.MaxInterval = 5 * time.Second
	c, err := backoff.Retry(ctx, func() (client.Client, error) {
		c, _, err := temporalclient.Dial(ctx, cfg, log)
		return c, err
	}, backoff.WithBackOff(exp), backoff.WithMaxElapsedTime(DialWait), backoff.WithNotify(func(err error, next time.Duration) {
		log.Warn("Temporal does not answer yet; trying again", "err", err.Error(), "retry_in", next.Round(time.Millisecond).String())
	}))
	if err != nil {
		return err
	}
	defer c.Close()
	return RunSteps(ctx, c, cfg, out, Steps)
}

// RunSteps registers the search attributes on cfg.TemporalNamespace through
// c, then runs steps in order.
func RunSteps(ctx context.Context, c client.Client, cfg config.Config, out io.Writer, steps []Step) error {
	if err := SearchAttributes(ctx, c, cfg.TemporalNamespace, out); err != nil {
		return err
	}
	for _, s := range steps {
		report, err := s.Run(ctx, c, cfg)
		for _, line := range report {
			fmt.Fprintf(out, "%s: %s\n", s.Name, line)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		if len(report) == 0 {
			fmt.Fprintf(out, "%s: done\n", s.Name)
		}
	}
	return nil
}

// SearchAttributes registers searchattr.All on namespace (searchattr.Register)
// and says on out which were added and which were already there.
func SearchAttributes(ctx context.Context, c client.Client, namespace string, out io.Writer) error {
	added, err := searchattr.Register(ctx, c.OperatorService(), namespace)
	if err != nil {
		return err
	}
	var present []string
	for _, k := range searchattr.All {
		if !slices.Contains(added, k.GetName()) {
			present = append(present, k.GetName())
		}
	}
	switch {
	case len(added) == 0:
		fmt.Fprintf(out, "search attributes on namespace %s: all %d already registered\n", namespace, len(searchattr.All))
	case len(present) == 0:
		fmt.Fprintf(out, "search attributes on namespace %s: registered %s\n", namespace, strings.Join(added, ", "))
	default:
		fmt.Fprintf(out, "search attributes on namespace %s: registered %s (already there: %s)\n",
			namespace, strings.Join(added, ", "), strings.Join(present, ", "))
	}
	return nil
}

// Dev is `tzurot dev`'s setup of its namespace: the same as
// `tzurot temporal setup` (the search attributes, then Steps), said in the
// log. A failure is logged, not fatal: without the attributes workflows set
// none (searchattr.Known finds none), and the stack runs as before.
func Dev(ctx context.Context, cfg config.Config, log *slog.Logger) {
	c, _, err := temporalclient.Dial(ctx, cfg, log)
	if err == nil {
		defer c.Close()
		var out strings.Builder
		err = RunSteps(ctx, c, cfg, &out, Steps)
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			log.Info(line)
		}
	}
	if err != nil {
		log.Warn("the namespace is not fully set up; workflows set only the search attributes it has", "error", err)
	}
}
