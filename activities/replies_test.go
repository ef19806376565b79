//go:build integration

package activities_test

import (
	"context"
	"testing"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/testdb"
)

// A reply is counted in tzurot_replies_total once, however often CountReply
// runs for it: a workflow task retried after the count (which runs the
// local activity again), a retried activity, or a second worker finishing
// the same run. Another reply counts again.
func TestCountReplyCountsOnce(t *testing.T) {
	db, _ := testdb.Client(t)
	acts := &activities.Activities{DB: db}
	labels := map[string]string{"outcome": "replied", "key_source": "operator"}
	before := metrics.Sum("tzurot_replies_total", labels)
	in := activities.CountReplyInput{WorkflowID: "reply/800000000000000071", Outcome: "replied", KeySource: "operator"}
	var counted []bool
	for range 3 {
		ok, err := acts.CountReply(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		counted = append(counted, ok)
	}
	if counted[0] != true || counted[1] || counted[2] {
		t.Errorf("counted %v, want only the first call", counted)
	}
	in.WorkflowID = "reply/800000000000000072"
	if ok, err := acts.CountReply(context.Background(), in); !ok || err != nil {
		t.Errorf("another reply: counted %v, err %v", ok, err)
	}
	if got := metrics.Sum("tzurot_replies_total", labels) - before; got != 2 {
		t.Errorf("tzurot_replies_total grew by %v for two replies, want 2", got)
	}
}
