//go:build e2e

package e2e

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/temporalsetup"
	"github.com/tzurot/tzurot/workflows"
)

// An attribute removed from the namespace while the worker runs (`temporal
// operator search-attribute remove --name TzurotModel`), after the worker
// has cached the full list, never leaves a reply hanging: its workflow asks
// which attributes the namespace has just before the upsert, and a task the
// server refused for the removed one (the cache still had it) makes the
// worker ask again before the task's retry. Without that, the reply is
// posted but GenerateReply stays Running, its last workflow task failing
// every 10 s with BadSearchAttributes.
func TestReplyCompletesAfterASearchAttributeIsRemoved(t *testing.T) {
	s := userKeyStack(t, itest.Options{Namespace: itest.AttributesNamespace}, "anthropic/claude-sonnet-4")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := temporalsetup.SearchAttributes(ctx, s.Client, itest.AttributesNamespace, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = temporalsetup.SearchAttributes(context.Background(), s.Client, itest.AttributesNamespace, io.Discard)
	})
	set, err := searchattr.Registered(ctx, s.Client.OperatorService(), itest.AttributesNamespace)
	if err != nil || len(set) != len(searchattr.All) {
		t.Fatalf("registered %v, err %v", set, err)
	}
	start := func(requestID string) workflows.GenerateReplyResult {
		t.Helper()
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: workflows.GenerateReplyID(requestID), TaskQueue: s.TaskQueue,
		}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
			RequestID: requestID, DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
			ChannelID: channelID, MessageID: requestID, Content: "hello there", SearchAttributes: set,
		})
		if err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 45*time.Second)
		defer wcancel()
		var res workflows.GenerateReplyResult
		if err := run.Get(wctx, &res); err != nil {
			t.Fatalf("reply %s did not complete: %v", requestID, err)
		}
		return res
	}
	// The first reply fills the worker's cache with every attribute.
	if res := start("800000000000000061"); res.Outcome != workflows.ReplyReplied {
		t.Fatalf("outcome %q", res.Outcome)
	}
	if _, err := s.Client.OperatorService().RemoveSearchAttributes(ctx, &operatorservice.RemoveSearchAttributesRequest{
		Namespace: itest.AttributesNamespace, SearchAttributes: []string{searchattr.Model.GetName()},
	}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if res := start("800000000000000062"); res.Outcome != workflows.ReplyReplied {
		t.Fatalf("outcome %q", res.Outcome)
	}
	t.Logf("the reply after the removal completed in %s", time.Since(began).Round(time.Millisecond))
	// The refused task made the worker ask again before the task's retry:
	// one refusal (or two, racing), not one every 10 s until RecheckAfter.
	if n := strings.Count(s.Logs.String(), "BadSearchAttributes"); n == 0 || n > 2 {
		t.Errorf("%d workflow tasks refused for the removed attribute, want 1 (the cache's, then asked again at once)", n)
	}
	desc, err := s.Client.DescribeWorkflowExecution(ctx, workflows.GenerateReplyID("800000000000000062"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[searchattr.Outcome.GetName()]; !ok {
		t.Errorf("the attributes the namespace still has were not set: %v", desc.GetWorkflowExecutionInfo().GetSearchAttributes())
	}
}
