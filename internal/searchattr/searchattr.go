// Package searchattr declares the search attributes tzurot's workflows carry
// (the Web UI's list filters), registers them on a namespace, and keeps
// starters and workflows to the ones a namespace has, so that none is ever
// set where it is missing: a start with an unregistered attribute is refused
// and an upsert of one fails the workflow task.
package searchattr

import (
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// The attributes. Values never hold a key, a token or message content.
var (
	// User is the Discord user id the workflow acts for.
	User = temporal.NewSearchAttributeKeyKeyword("TzurotUser")
	// Personality is the personality's name (its slug), as the bot resolved it.
	Personality = temporal.NewSearchAttributeKeyKeyword("TzurotPersonality")
	// Model is the OpenRouter model the provider answered with.
	Model = temporal.NewSearchAttributeKeyKeyword("TzurotModel")
	// KeySource is whose key paid: KeyUser, KeyOperator or KeyNone.
	KeySource = temporal.NewSearchAttributeKeyKeyword("TzurotKeySource")
	// Outcome is the workflow's result outcome (replied, failed, stored, …).
	Outcome = temporal.NewSearchAttributeKeyKeyword("TzurotOutcome")
	// Tokens is the reply's total tokens as the provider billed them.
	Tokens = temporal.NewSearchAttributeKeyInt64("TzurotTokens")
	// Migration and RowsDone are a data migration's name and rows read.
	Migration = temporal.NewSearchAttributeKeyKeyword("TzurotMigration")
	RowsDone  = temporal.NewSearchAttributeKeyInt64("TzurotRowsDone")
)

// KeySource values: the user's own key, the operator's (OPENROUTER_API_KEY),
// or none (no key could pay, so no provider call was made).
const (
	KeyUser     = "user"
	KeyOperator = "operator"
	KeyNone     = "none"
)

// All is every attribute tzurot sets, in the order `tzurot temporal setup`
// reports them.
var All = []temporal.SearchAttributeKey{User, Personality, Model, KeySource, Outcome, Tokens, Migration, RowsDone}

// Types is All as AddSearchAttributes takes them: name to indexed type.
func Types() map[string]enumspb.IndexedValueType {
	out := make(map[string]enumspb.IndexedValueType, len(All))
	for _, k := range All {
		out[k.GetName()] = k.GetValueType()
	}
	return out
}

// Value is one attribute with the value a workflow or starter would set;
// the zero Value sets nothing.
type Value struct {
	key    temporal.SearchAttributeKey
	update temporal.SearchAttributeUpdate
}

// Keyword is k set to v; nothing when v is empty (unknown).
func Keyword(k temporal.SearchAttributeKeyKeyword, v string) Value {
	if v == "" {
		return Value{}
	}
	return Value{key: k, update: k.ValueSet(v)}
}

// Int is k set to v.
func Int(k temporal.SearchAttributeKeyInt64, v int64) Value {
	return Value{key: k, update: k.ValueSet(v)}
}

// Set is the names of tzurot's attributes a namespace has registered with
// their right type, as a starter found them. It travels in workflow inputs
// (`search_attributes`), so a workflow decides what to upsert from its own
// history: deterministically, and never an attribute the namespace lacks.
type Set []string

// Has reports whether k is in the set.
func (s Set) Has(k temporal.SearchAttributeKey) bool { return slices.Contains(s, k.GetName()) }

// Updates are the updates of vs whose attributes are in the set; the zero
// Values are dropped.
func (s Set) Updates(vs ...Value) []temporal.SearchAttributeUpdate {
	var out []temporal.SearchAttributeUpdate
	for _, v := range vs {
		if v.update != nil && s.Has(v.key) {
			out = append(out, v.update)
		}
	}
	return out
}

// Attributes are the values of vs in the set, as
// client.StartWorkflowOptions.TypedSearchAttributes takes them.
func (s Set) Attributes(vs ...Value) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(s.Updates(vs...)...)
}
