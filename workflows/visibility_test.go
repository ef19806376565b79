package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/searchattr"
)

// replyUpserts runs a GenerateReply that replies, with set as the search
// attributes its starter found and now as those the namespace has when the
// workflow asks before its upsert (nil: the same as set), and returns
// every upsert it made.
func replyUpserts(t *testing.T, set searchattr.Set, now ...string) []temporal.SearchAttributes {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	if now == nil {
		now = set
	}
	env.OnActivity(a.RegisteredSearchAttributes, mock.Anything).Return(searchattr.Set(now), nil).Maybe()
	env.OnActivity(a.ResolvePersonality, mock.Anything, mock.Anything).Return(kerach, nil)
	env.OnActivity(a.GenerateWithinLimits, mock.Anything, mock.Anything).Return(activities.GenerateOutput{
		Text: "brr", Model: "openai/gpt-4o", KeySource: activities.KeyFromOperator,
		Usage: openrouter.Usage{PromptTokens: 1000, CompletionTokens: 234, TotalTokens: 1234},
	}, nil)
	env.OnActivity(a.PostReply, mock.Anything, mock.Anything).Return("700000000000000001", nil)
	env.OnActivity(a.SaveTurns, mock.Anything, mock.Anything).Return(nil)
	var upserts []temporal.SearchAttributes
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil).Maybe()
	var counted []activities.CountReplyInput
	env.OnActivity(a.CountReply, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CountReplyInput) (bool, error) {
		counted = append(counted, in)
		return true, nil
	})
	in := replyIn
	in.SearchAttributes = set
	res := execute[GenerateReplyResult](t, env, GenerateReply, in)
	if res.Outcome != ReplyReplied {
		t.Fatalf("outcome %q", res.Outcome)
	}
	// Counted once, by the activity whose row guards it, under the run's id.
	wantCount := activities.CountReplyInput{WorkflowID: GenerateReplyID(in.RequestID), Outcome: ReplyReplied, KeySource: searchattr.KeyOperator}
	if len(counted) != 1 || counted[0] != wantCount {
		t.Errorf("CountReply calls %+v, want one %+v", counted, wantCount)
	}
	details, err := env.QueryWorkflow("__temporal_workflow_metadata")
	if err != nil {
		t.Fatal(err)
	}
	var meta sdkpb.WorkflowMetadata
	if err := details.Get(&meta); err != nil {
		t.Fatal(err)
	}
	want := "**alice → Kerach** — done: replied\n\nmodel openai/gpt-4o · operator key · 1234 tokens"
	if got := meta.GetCurrentDetails(); got != want {
		t.Errorf("current details %q, want %q", got, want)
	}
	return upserts
}

// What a reply learns — outcome, model, whose key, tokens — is set once, at
// its end, as search attributes.
func TestGenerateReplySetsWhatItLearned(t *testing.T) {
	all := searchattr.Set{}
	for _, k := range searchattr.All {
		all = append(all, k.GetName())
	}
	upserts := replyUpserts(t, all)
	if len(upserts) != 1 {
		t.Fatalf("%d upserts, want 1", len(upserts))
	}
	sa := upserts[0]
	outcome, _ := sa.GetKeyword(searchattr.Outcome)
	model, _ := sa.GetKeyword(searchattr.Model)
	source, _ := sa.GetKeyword(searchattr.KeySource)
	tokens, _ := sa.GetInt64(searchattr.Tokens)
	if outcome != ReplyReplied || model != "openai/gpt-4o" || source != searchattr.KeyOperator || tokens != 1234 || sa.Size() != 4 {
		t.Errorf("upserted %v", sa.GetUntypedValues())
	}
}

// A namespace without the attributes (the starter found none, or only those
// it sets itself) gets no upsert: one of an unregistered attribute would
// fail the workflow task, again and again.
func TestGenerateReplyUpsertsOnlyRegisteredAttributes(t *testing.T) {
	for _, set := range []searchattr.Set{nil, {searchattr.User.GetName(), searchattr.Personality.GetName()}} {
		if upserts := replyUpserts(t, set); len(upserts) != 0 {
			t.Errorf("with %v registered: upserted %v", set, upserts[0].GetUntypedValues())
		}
	}
	upserts := replyUpserts(t, searchattr.Set{searchattr.Outcome.GetName()})
	if len(upserts) != 1 || upserts[0].Size() != 1 {
		t.Fatalf("with only TzurotOutcome registered: %d upserts", len(upserts))
	}
}

// An attribute removed from the namespace after the start (`temporal
// operator search-attribute remove`) is left out of the upsert: the
// workflow asks which the namespace has just before it, so its task never
// fails for one (the server refuses the whole task: BadSearchAttributes).
func TestGenerateReplyLeavesOutAnAttributeRemovedWhileItRan(t *testing.T) {
	all := searchattr.Set{}
	var now []string
	for _, k := range searchattr.All {
		all = append(all, k.GetName())
		if k != searchattr.Model {
			now = append(now, k.GetName())
		}
	}
	upserts := replyUpserts(t, all, now...)
	if len(upserts) != 1 || upserts[0].ContainsKey(searchattr.Model) || upserts[0].Size() != 3 {
		t.Fatalf("upserts %v, want outcome, key source and tokens without TzurotModel", upserts)
	}
	if upserts := replyUpserts(t, all, []string{}...); len(upserts) != 0 {
		t.Errorf("with none registered now: upserted %v", upserts[0].GetUntypedValues())
	}
}

// The details say whose key paid in words, and only what is known.
func TestProgressDetails(t *testing.T) {
	p := progress{title: "alice → Kerach", step: "asking the model"}
	if got := p.details(); got != "**alice → Kerach** — asking the model" {
		t.Errorf("details %q", got)
	}
	p.learned("", searchattr.KeyNone, 0)
	if got := p.details(); got != "**alice → Kerach** — asking the model\n\nno key" {
		t.Errorf("details %q", got)
	}
	if keySourceOf(activities.ErrInvalidKey) != searchattr.KeyUser || keySourceOf(activities.ErrNoKey) != searchattr.KeyNone ||
		keySourceOf(activities.ErrRateLimited) != "" {
		t.Error("keySourceOf")
	}
}
