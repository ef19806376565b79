//go:build integration

package activities_test

import (
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// DiscardStream's and RewriteStream's non-retryable errors (a refusal by
// Discord, such as 10015 for a deleted webhook, or bad input) must reach
// the workflow with their type, not be retried eight times over a minute
// while the reply, or the failure notice, waits behind them. Bad input is
// the refusal that needs no other fault to reach. The environment runs
// without the worker's interceptors (worker.KeepErrorTypes): the
// activities keep their errors' type themselves.
func TestStreamActivitiesKeepTheirErrorsType(t *testing.T) {
	f := newStreamFixture(t, fakediscord.Options{})
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.acts)
	noChannel := target("wt1/reply")
	noChannel.ChannelID = ""
	for name, run := range map[string]func() error{
		"DiscardStream": func() error {
			_, err := env.ExecuteActivity(f.acts.DiscardStream, activities.DiscardStreamInput{Target: noChannel})
			return err
		},
		"RewriteStream": func() error {
			_, err := env.ExecuteActivity(f.acts.RewriteStream, activities.RewriteStreamInput{Target: noChannel, Content: "x"})
			return err
		},
	} {
		err := run()
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || ae.Type() != activities.ErrBadInput || !ae.NonRetryable() {
			typ := ""
			if ae != nil {
				typ = ae.Type()
			}
			t.Errorf("%s failed with type %q (%v); want %s, non-retryable", name, typ, err, activities.ErrBadInput)
		}
	}
}
