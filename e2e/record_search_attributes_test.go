//go:build e2e

package e2e

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/temporalsetup"
	"github.com/tzurot/tzurot/workflows"
)

// TestRecordSearchAttributesHistory records, on request, the history of a
// reply on a namespace with the search attributes (GenerateReply at
// search-attributes 1: the upsert, the current details, the activities'
// summaries), for the replay tests in workflows/.
func TestRecordSearchAttributesHistory(t *testing.T) {
	recordReplyWithAttributes(t, "generate_reply_v5_search_attributes.json", "800000000000000051")
}

// TestRecordAskedAndCountedHistory records, on request, a reply at
// search-attributes-asked 1 and count-reply-once 1: the local activities
// RegisteredSearchAttributes before the upsert and CountReply after it.
func TestRecordAskedAndCountedHistory(t *testing.T) {
	recordReplyWithAttributes(t, "generate_reply_v7_asked_and_counted.json", "800000000000000052")
}

func recordReplyWithAttributes(t *testing.T, file, requestID string) {
	if f := os.Getenv("TZUROT_RECORD_HISTORY"); f != file && f != "all" {
		t.Skip("set TZUROT_RECORD_HISTORY to " + file + " or all to record it")
	}
	s := userKeyStack(t, itest.Options{Namespace: itest.AttributesNamespace}, "anthropic/claude-sonnet-4")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := temporalsetup.SearchAttributes(ctx, s.Client, itest.AttributesNamespace, io.Discard); err != nil {
		t.Fatal(err)
	}
	set, err := searchattr.Registered(ctx, s.Client.OperatorService(), itest.AttributesNamespace)
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID(requestID), TaskQueue: s.TaskQueue, StaticSummary: "alice → cold-kerach",
		TypedSearchAttributes: set.Attributes(searchattr.Keyword(searchattr.User, aliceID)),
	}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
		RequestID: requestID, DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: channelID, MessageID: requestID, Content: "hello there", SearchAttributes: set,
	})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.GenerateReplyResult
	if err := run.Get(ctx, &res); err != nil || res.Outcome != workflows.ReplyReplied {
		t.Fatalf("outcome %q, err %v", res.Outcome, err)
	}
	recordHistory(t, s, workflows.GenerateReplyID(requestID), file)
}
