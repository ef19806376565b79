package workflows

// What the reply-path workflows show operators in the Web UI besides the
// summary their starter gave them: current details kept up to date at each
// step, the search attributes learned while they run, and a one-line summary
// on each activity. None of it ever holds a key, a token or message content.

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/searchattr"
)

// searchAttributesChange versions the upsert of the Tzurot search
// attributes (issue 15): asked only when the starter found some registered
// and the workflow has one to set, so histories recorded before it — whose
// inputs carry no search_attributes — never reach the marker, and a history
// an older worker recorded from such an input replays without the upsert.
const (
	searchAttributesChange  = "search-attributes"
	searchAttributesVersion = 1
)

// searchAttributesAskedChange versions asking, just before an upsert, which
// attributes the namespace has now (RegisteredSearchAttributes, a local
// activity whose result history records, so a replay upserts the same): an
// attribute removed while the workflow ran is then left out instead of
// failing its workflow task until `tzurot temporal setup` is run again.
// Asked only where an upsert was about to happen, so histories without one
// never reach the marker; those with one recorded before it upsert the
// starter's Set, as they did.
const (
	searchAttributesAskedChange  = "search-attributes-asked"
	searchAttributesAskedVersion = 1
)

// progress is a workflow's current details: who and what (title), the step
// it is at, and what it learned on the way. Its details read, in Temporal's
// Markdown:
//
//	**alice → kerach** — posting the reply
//
//	model openai/gpt-4o · user key · 1234 tokens
type progress struct {
	title     string
	step      string
	model     string
	keySource string
	tokens    int
	outcome   string
}

// at moves to step and shows it.
func (p *progress) at(ctx workflow.Context, step string) {
	p.step = step
	workflow.SetCurrentDetails(ctx, p.details())
}

// learned keeps what the provider call told: the model that answered,
// whose key paid and the tokens billed (each only when known).
func (p *progress) learned(model, keySource string, tokens int) {
	if model != "" {
		p.model = model
	}
	if keySource != "" {
		p.keySource = keySource
	}
	if tokens > 0 {
		p.tokens = tokens
	}
}

func (p *progress) details() string {
	head := "**" + p.title + "** — " + p.step
	var facts []string
	if p.model != "" {
		facts = append(facts, "model "+p.model)
	}
	if p.keySource != "" {
		facts = append(facts, keyWords(p.keySource))
	}
	if p.tokens > 0 {
		facts = append(facts, fmt.Sprintf("%d tokens", p.tokens))
	}
	if len(facts) == 0 {
		return head
	}
	return head + "\n\n" + strings.Join(facts, " · ")
}

// keyWords says whose key paid, as the summaries do.
func keyWords(source string) string {
	switch source {
	case searchattr.KeyUser:
		return "user key"
	case searchattr.KeyOperator:
		return "operator key"
	case searchattr.KeyNone:
		return "no key"
	}
	return source
}

// finish shows the outcome and sets what the workflow learned as search
// attributes: outcome, model, key source and tokens, those of set only.
func (p *progress) finish(ctx workflow.Context, set searchattr.Set, outcome string) {
	p.outcome = outcome
	p.at(ctx, "done: "+outcome)
	vs := []searchattr.Value{
		searchattr.Keyword(searchattr.Outcome, outcome),
		searchattr.Keyword(searchattr.Model, p.model),
		searchattr.Keyword(searchattr.KeySource, p.keySource),
	}
	if p.tokens > 0 {
		vs = append(vs, searchattr.Int(searchattr.Tokens, int64(p.tokens)))
	}
	upsert(ctx, set, &asked{}, vs...)
}

// asked is what the namespace was last found to have, by askRegistered, and
// when (workflow time); the zero asked has not asked yet.
type asked struct {
	set searchattr.Set
	at  time.Time
}

// now is the namespace's Set, asked again when never asked or asked
// searchattr.RecheckAfter ago (workflow time, so replay asks where the run
// did): a long workflow that upserts often asks at most that often.
func (s *asked) now(ctx workflow.Context) searchattr.Set {
	if s.at.IsZero() || workflow.Now(ctx).Sub(s.at) >= searchattr.RecheckAfter {
		s.set, s.at = askRegistered(ctx), workflow.Now(ctx)
	}
	return s.set
}

// askRegistered is the Set the namespace has now, by the local activity
// RegisteredSearchAttributes; empty when it could not be asked.
func askRegistered(ctx workflow.Context) searchattr.Set {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		Summary:             "ask which search attributes the namespace has now",
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2},
	})
	var set searchattr.Set
	if err := workflow.ExecuteLocalActivity(lctx, a.RegisteredSearchAttributes).Get(ctx, &set); err != nil {
		return nil
	}
	return set
}

// upsert sets those of vs that set holds (the starter's Set) and, behind
// searchAttributesAskedChange, that the namespace has now (ns), behind
// searchAttributesChange. A failed upsert is logged: the attributes are
// for finding the workflow, never a reason for it to fail.
func upsert(ctx workflow.Context, set searchattr.Set, ns *asked, vs ...searchattr.Value) {
	updates := set.Updates(vs...)
	if len(updates) == 0 ||
		workflow.GetVersion(ctx, searchAttributesChange, workflow.DefaultVersion, searchAttributesVersion) < searchAttributesVersion {
		return
	}
	if workflow.GetVersion(ctx, searchAttributesAskedChange, workflow.DefaultVersion, searchAttributesAskedVersion) >= searchAttributesAskedVersion {
		if updates = ns.now(ctx).Updates(vs...); len(updates) == 0 {
			return
		}
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not set", "error", err)
	}
}

// keySourceOf is whose key a failure's type says was in play, "" when it
// does not say: the user's own key was refused or is switched off; no key
// could pay; a guest's allowance (the operator's key) is used up.
func keySourceOf(errType string) string {
	switch errType {
	case activities.ErrInvalidKey, activities.ErrNoCredits, activities.ErrKeyInactive:
		return searchattr.KeyUser
	case activities.ErrNoKey:
		return searchattr.KeyNone
	case activities.ErrLimitReached:
		return searchattr.KeyOperator
	}
	return ""
}

// withSummary is ctx with opts and summary, the activity's one line in the
// Web UI's event history.
func withSummary(ctx workflow.Context, opts workflow.ActivityOptions, summary string) workflow.Context {
	opts.Summary = summary
	return workflow.WithActivityOptions(ctx, opts)
}

// summarized is ctx with its activity options' Summary set to summary.
func summarized(ctx workflow.Context, summary string) workflow.Context {
	opts := workflow.GetActivityOptions(ctx)
	opts.Summary = summary
	return workflow.WithActivityOptions(ctx, opts)
}
