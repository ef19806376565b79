package activities_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/config"
)

// deactivateAs runs DeactivateKey as the workflow execution with ID wfID
// schedules it, in a test workflow environment started under that ID.
func (f *fixture) deactivateAs(t *testing.T, wfID string, in activities.DeactivateKeyInput) bool {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(f.acts)
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (bool, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		var off bool
		err := workflow.ExecuteActivity(ctx, f.acts.DeactivateKey, in).Get(ctx, &off)
		return off, err
	}, workflow.RegisterOptions{Name: "Deactivate"})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: wfID})
	env.ExecuteWorkflow("Deactivate")
	var off bool
	if err := env.GetWorkflowResult(&off); err != nil {
		t.Fatalf("DeactivateKey as %s: %v", wfID, err)
	}
	return off
}

// Two replies refused with the same key each run DeactivateKey: only the
// workflow that switched the key off is told so (and told again on its
// retry), so only it DMs the user. With the fingerprint and without.
func TestDeactivateKeyReportsOnlyTheWorkflowThatSwitchedItOff(t *testing.T) {
	for _, fingerprint := range []string{activities.KeyFingerprint(userKey), ""} {
		f := newFixture(t, config.GuestOff, "openrouter/free")
		f.storeKey(t, userKey, true)
		in := activities.DeactivateKeyInput{DiscordUserID: aliceID, Provider: activities.ProviderOpenRouter, KeyFingerprint: fingerprint}
		got := []bool{
			f.deactivateAs(t, "reply/1", in),
			f.deactivateAs(t, "reply/2", in),
			f.deactivateAs(t, "reply/1", in), // reply/1's retry
		}
		if !got[0] || got[1] || !got[2] {
			t.Errorf("fingerprint %q: DeactivateKey as reply/1, reply/2, reply/1 again = %v; want [true false true]", fingerprint, got)
		}
		if k, err := f.acts.DB.UserAPIKey.Query().Only(t.Context()); err != nil || k.IsActive || k.DeactivatedBy == nil || *k.DeactivatedBy != "reply/1" {
			t.Errorf("fingerprint %q: the key after: %+v, %v; want off, deactivated_by reply/1", fingerprint, k, err)
		}
	}
}
