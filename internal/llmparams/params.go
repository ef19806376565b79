// Package llmparams parses, validates and describes the OpenRouter "advanced
// parameters" document kept in llm_configs.advanced_parameters (jsonb).
//
// The document is edited by people, so it arrives with typos, strings where
// numbers belong and values a provider would reject mid-conversation. This
// package turns it into typed values without losing "not set" (every field is
// a pointer, slice or map whose nil value means "leave it to the provider"),
// and explains anything wrong with it in terms the person editing it can act
// on.
//
// # Errors
//
// Parse and Validate report every problem they find rather than stopping at
// the first, so whoever fixes a document sees everything wrong with it in one
// go. One problem comes back as a *FieldError; several come back joined with
// errors.Join, one per line, and FieldErrors splits them again. Every line
// stands alone: it names the field by its path (reasoning.max_tokens, stop[2],
// logit_bias["50256"]), the offending value and what is allowed, for example
//
//	temperature: 2.5 is out of range, allowed 0 to 2
//	top_k: expected an integer, got 1.5
//	unknown field "reasoning.foo": allowed fields are effort, max_tokens, exclude, enabled
//
// The order is deterministic so that messages and tests are stable: fields
// are reported in declaration order (the order of the Params struct), and
// within one JSON object unknown keys come first, sorted.
package llmparams

import (
	"maps"
	"slices"
)

// Reasoning configures a model's thinking tokens. OpenRouter normalises the
// OpenAI-style effort and the Anthropic-style token budget onto one object.
type Reasoning struct {
	Effort    *string `json:"effort,omitempty"`
	MaxTokens *int    `json:"max_tokens,omitempty"`
	Exclude   *bool   `json:"exclude,omitempty"`
	Enabled   *bool   `json:"enabled,omitempty"`
}

// ResponseFormat asks for plain text or a JSON object. Type is not a pointer
// because an object without a type means nothing; Validate rejects it.
type ResponseFormat struct {
	Type string `json:"type"`
}

// Params is the advanced-parameters document. A nil field is "not set", which
// is different from a zero value: top_k 0 and "no top_k" are distinct
// requests, and a user override must be able to tell them apart.
type Params struct {
	// Sampling.
	Temperature       *float64 `json:"temperature,omitempty"`
	TopP              *float64 `json:"top_p,omitempty"`
	TopK              *int     `json:"top_k,omitempty"`
	FrequencyPenalty  *float64 `json:"frequency_penalty,omitempty"`
	PresencePenalty   *float64 `json:"presence_penalty,omitempty"`
	RepetitionPenalty *float64 `json:"repetition_penalty,omitempty"`
	MinP              *float64 `json:"min_p,omitempty"`
	TopA              *float64 `json:"top_a,omitempty"`
	Seed              *int     `json:"seed,omitempty"`

	Reasoning *Reasoning `json:"reasoning,omitempty"`

	// Output. The slices and map use omitzero rather than omitempty: an
	// explicitly empty value is a setting in its own right and must survive
	// a round trip, while nil still means "not set".
	MaxTokens      *int               `json:"max_tokens,omitempty"`
	Stop           []string           `json:"stop,omitzero"`
	LogitBias      map[string]float64 `json:"logit_bias,omitzero"`
	ResponseFormat *ResponseFormat    `json:"response_format,omitempty"`

	// OpenRouter routing. "transforms": [] is how OpenRouter is told to drop
	// its default middle-out compression, which is why omitzero matters here
	// most of all.
	Transforms []string `json:"transforms,omitzero"`
	Route      *string  `json:"route,omitempty"`
	Verbosity  *string  `json:"verbosity,omitempty"`
}

// HasReasoning reports whether the document asks for reasoning. Both
// enabled=false and effort "none" are OpenRouter's ways of switching it off,
// so either one wins over anything else in the object; an otherwise empty
// reasoning object still counts, because OpenRouter treats its presence as a
// request for the default effort.
func (p Params) HasReasoning() bool {
	r := p.Reasoning
	if r == nil {
		return false
	}
	if r.Enabled != nil && !*r.Enabled {
		return false
	}
	if r.Effort != nil && *r.Effort == EffortNone {
		return false
	}
	return true
}

// Merge layers override over p: every field set in override wins. Reasoning
// merges key by key because its keys are independent knobs (a user raising
// the effort should keep the personality's exclude setting). Lists and maps
// are replaced whole, since a user's stop list is meant to be the list, not
// an addition to someone else's, and an empty one is how a user clears it.
//
// Merging two valid documents can produce an invalid one (say the user's
// reasoning.max_tokens outgrows the personality's max_tokens), so validate
// the result before sending it. The result shares no memory with either
// input.
func (p Params) Merge(override Params) Params {
	out := p.Clone()
	o := override.Clone()

	pick(&out.Temperature, o.Temperature)
	pick(&out.TopP, o.TopP)
	pick(&out.TopK, o.TopK)
	pick(&out.FrequencyPenalty, o.FrequencyPenalty)
	pick(&out.PresencePenalty, o.PresencePenalty)
	pick(&out.RepetitionPenalty, o.RepetitionPenalty)
	pick(&out.MinP, o.MinP)
	pick(&out.TopA, o.TopA)
	pick(&out.Seed, o.Seed)

	if o.Reasoning != nil {
		if out.Reasoning == nil {
			out.Reasoning = o.Reasoning
		} else {
			pick(&out.Reasoning.Effort, o.Reasoning.Effort)
			pick(&out.Reasoning.MaxTokens, o.Reasoning.MaxTokens)
			pick(&out.Reasoning.Exclude, o.Reasoning.Exclude)
			pick(&out.Reasoning.Enabled, o.Reasoning.Enabled)
		}
	}

	pick(&out.MaxTokens, o.MaxTokens)
	if o.Stop != nil {
		out.Stop = o.Stop
	}
	if o.LogitBias != nil {
		out.LogitBias = o.LogitBias
	}
	pick(&out.ResponseFormat, o.ResponseFormat)

	if o.Transforms != nil {
		out.Transforms = o.Transforms
	}
	pick(&out.Route, o.Route)
	pick(&out.Verbosity, o.Verbosity)
	return out
}

func pick[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// Clone returns a deep copy, so a cached personality document can be handed
// out and merged without callers corrupting it through shared pointers.
// Empty-but-set slices and maps stay empty-but-set.
func (p Params) Clone() Params {
	out := Params{
		Temperature:       clonePtr(p.Temperature),
		TopP:              clonePtr(p.TopP),
		TopK:              clonePtr(p.TopK),
		FrequencyPenalty:  clonePtr(p.FrequencyPenalty),
		PresencePenalty:   clonePtr(p.PresencePenalty),
		RepetitionPenalty: clonePtr(p.RepetitionPenalty),
		MinP:              clonePtr(p.MinP),
		TopA:              clonePtr(p.TopA),
		Seed:              clonePtr(p.Seed),
		MaxTokens:         clonePtr(p.MaxTokens),
		Stop:              slices.Clone(p.Stop),
		LogitBias:         maps.Clone(p.LogitBias),
		ResponseFormat:    clonePtr(p.ResponseFormat),
		Transforms:        slices.Clone(p.Transforms),
		Route:             clonePtr(p.Route),
		Verbosity:         clonePtr(p.Verbosity),
	}
	if r := p.Reasoning; r != nil {
		out.Reasoning = &Reasoning{
			Effort:    clonePtr(r.Effort),
			MaxTokens: clonePtr(r.MaxTokens),
			Exclude:   clonePtr(r.Exclude),
			Enabled:   clonePtr(r.Enabled),
		}
	}
	return out
}

func clonePtr[T any](v *T) *T {
	if v == nil {
		return nil
	}
	c := *v
	return &c
}

// Map returns the set fields keyed by their JSON names, ready to be spread
// into an OpenRouter request body next to model and messages. Nested objects
// are maps too, so the caller never needs this package's types to build the
// body. The result is freshly allocated and never nil.
func (p Params) Map() map[string]any {
	m := map[string]any{}
	put(m, "temperature", p.Temperature)
	put(m, "top_p", p.TopP)
	put(m, "top_k", p.TopK)
	put(m, "frequency_penalty", p.FrequencyPenalty)
	put(m, "presence_penalty", p.PresencePenalty)
	put(m, "repetition_penalty", p.RepetitionPenalty)
	put(m, "min_p", p.MinP)
	put(m, "top_a", p.TopA)
	put(m, "seed", p.Seed)
	if r := p.Reasoning; r != nil {
		rm := map[string]any{}
		put(rm, "effort", r.Effort)
		put(rm, "max_tokens", r.MaxTokens)
		put(rm, "exclude", r.Exclude)
		put(rm, "enabled", r.Enabled)
		m["reasoning"] = rm
	}
	put(m, "max_tokens", p.MaxTokens)
	if p.Stop != nil {
		m["stop"] = slices.Clone(p.Stop)
	}
	if p.LogitBias != nil {
		m["logit_bias"] = maps.Clone(p.LogitBias)
	}
	if p.ResponseFormat != nil {
		m["response_format"] = map[string]any{"type": p.ResponseFormat.Type}
	}
	if p.Transforms != nil {
		m["transforms"] = slices.Clone(p.Transforms)
	}
	put(m, "route", p.Route)
	put(m, "verbosity", p.Verbosity)
	return m
}

func put[T any](m map[string]any, key string, v *T) {
	if v != nil {
		m[key] = *v
	}
}
