package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
)

// execute runs wf with in to completion and returns its result, failing the
// test when the workflow fails.
func execute[R any](t *testing.T, env *testsuite.TestWorkflowEnvironment, wf, in any) R {
	t.Helper()
	env.ExecuteWorkflow(wf, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res R
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// onSendDM mocks SendDM: it checks the delivery key (and, when given, the
// recipient) and appends each DM's content to dms.
func onSendDM(t *testing.T, env *testsuite.TestWorkflowEnvironment, deliveryKey, userID string, dms *[]string) {
	env.OnActivity(a.SendDM, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendDMInput) (string, error) {
			if in.DeliveryKey != deliveryKey || (userID != "" && in.DiscordUserID != userID) {
				t.Errorf("SendDM input %+v, want delivery key %q", in, deliveryKey)
			}
			*dms = append(*dms, in.Content)
			return "600000000000000001", nil
		}).Maybe()
}

// onDeactivateKey mocks DeactivateKey for userID's OpenRouter key (any
// other input fails the mock): it counts the calls in n and reports the key
// switched off.
func onDeactivateKey(env *testsuite.TestWorkflowEnvironment, userID string, n *int) {
	env.OnActivity(a.DeactivateKey, mock.Anything, activities.DeactivateKeyInput{DiscordUserID: userID, Provider: "openrouter"}).Return(
		func(context.Context, activities.DeactivateKeyInput) (bool, error) {
			*n++
			return true, nil
		}).Maybe()
}

// onSaveTurns records every SaveTurns input in saved.
func onSaveTurns(env *testsuite.TestWorkflowEnvironment, saved *[]activities.SaveTurnsInput) {
	env.OnActivity(a.SaveTurns, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SaveTurnsInput) error {
			*saved = append(*saved, in)
			return nil
		}).Maybe()
}
