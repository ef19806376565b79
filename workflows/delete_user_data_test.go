package workflows

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
)

// Every table is cleared once, in order, users last; the counts are the
// activity's; a failed batch is retried, not reported.
func TestDeleteUserData(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var order []string
	failedOnce := false
	env.OnActivity(a.DeleteUserRows, mock.Anything, mock.Anything).
		Return(func(_ context.Context, in activities.DeleteUserRowsInput) (int, error) {
			if in.DiscordUserID != "123456" {
				t.Errorf("DeleteUserRows for user %q", in.DiscordUserID)
			}
			if in.Table == "conversation_history" && !failedOnce {
				failedOnce = true
				return 0, errors.New("database restarting")
			}
			order = append(order, in.Table)
			return len(in.Table), nil
		})
	res := execute[DeleteUserDataResult](t, env, DeleteUserData, DeleteUserDataInput{DiscordUserID: "123456"})
	if !slices.Equal(order, activities.UserDataTables) || order[len(order)-1] != "users" {
		t.Fatalf("tables cleared in order %v, want %v", order, activities.UserDataTables)
	}
	if res.Outcome != UserDataDeleted || len(res.Counts) != len(activities.UserDataTables) {
		t.Fatalf("result %+v", res)
	}
	for _, table := range slices.Sorted(maps.Keys(res.Counts)) {
		if res.Counts[table] != len(table) {
			t.Errorf("counts[%s] = %d, want %d", table, res.Counts[table], len(table))
		}
	}
}

func TestDeleteUserDataRejectsMissingUser(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.ExecuteWorkflow(DeleteUserData, DeleteUserDataInput{})
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("want an error for a missing discord_user_id")
	}
}
