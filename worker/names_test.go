package worker_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
)

// The worker registers every exported method of both activity structs under
// its name, and recorded histories name activities by it: the registered set
// is exactly what the workflows schedule, no more (a method that is no
// activity, like operator.Rollback, must not be one) and no other names.
func TestRegisteredActivityNames(t *testing.T) {
	for _, tc := range []struct {
		of   any
		want []string
	}{
		{(*activities.Activities)(nil), []string{
			"CheckKey", "CountReply", "DeactivateKey", "DeleteUserRows", "DiscardStream", "Generate", "GenerateWithinLimits", "Imagine", "ImagineNotice",
			"PostReply", "RecordUsage", "RegisteredSearchAttributes", "Remember", "ResolvePersonality", "RewriteStream", "SaveTurns", "SendDM",
			"SpeakReply", "StoreKey",
		}},
		{(*operator.Activities)(nil), []string{
			"MigrationBackup", "MigrationBatch", "MigrationBegin", "MigrationFinish", "MigrationVerify",
			"PostingHorizon", "PurgeBatch", "RotateKeysPage", "VerifyKeys",
		}},
	} {
		typ := reflect.TypeOf(tc.of)
		var got []string
		for i := range typ.NumMethod() {
			got = append(got, typ.Method(i).Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s registers %v, want %v", typ, got, tc.want)
		}
	}
}
