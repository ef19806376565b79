package llmparams

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// Accepted values of the enumerated fields, exported so that commands and
// forms can offer the same choices Validate accepts.
const (
	EffortHigh    = "high"
	EffortMedium  = "medium"
	EffortLow     = "low"
	EffortMinimal = "minimal"
	EffortNone    = "none"

	ResponseFormatText       = "text"
	ResponseFormatJSONObject = "json_object"

	RouteFallback = "fallback"

	VerbosityLow    = "low"
	VerbosityMedium = "medium"
	VerbosityHigh   = "high"
)

// MaxStopSequences is OpenAI's limit; OpenRouter passes stop through, so a
// longer list fails at the provider, mid-conversation, instead of here.
const MaxStopSequences = 4

// Bounds for reasoning.max_tokens. Anthropic, the main user of explicit
// budgets, rejects anything under 1024, and above 32000 Anthropic itself
// warns that requests start failing on network timeouts.
const (
	MinReasoningTokens = 1024
	MaxReasoningTokens = 32000
)

var (
	efforts         = []string{EffortHigh, EffortMedium, EffortLow, EffortMinimal, EffortNone}
	responseFormats = []string{ResponseFormatText, ResponseFormatJSONObject}
	routes          = []string{RouteFallback}
	verbosities     = []string{VerbosityLow, VerbosityMedium, VerbosityHigh}
)

// Field describes one leaf of the document, for help text and settings UIs.
type Field struct {
	Path    string // e.g. "reasoning.max_tokens"
	Type    string // JSON type, e.g. "integer"
	Allowed string // e.g. "1024 to 32000"; the same words Validate uses
}

// Fields lists every settable leaf in declaration order. It comes from the
// same table Validate runs, so the help can never drift from the checks.
func Fields() []Field {
	out := make([]Field, len(rules))
	for i, r := range rules {
		out[i] = Field{Path: r.path, Type: r.kind, Allowed: r.allowed}
	}
	return out
}

// Validate checks values against what OpenRouter and the providers behind it
// accept, so that a bad setting is caught when it is saved rather than when
// a reply fails. See the package documentation for the error format.
func (p Params) Validate() error {
	var c problems
	for _, r := range rules {
		if r.check != nil {
			r.check(p, &c)
		}
	}
	return c.err()
}

// rule is one leaf of the schema: how to describe it and how to check it.
type rule struct {
	path    string
	kind    string
	allowed string
	check   func(Params, *problems)
}

// rules is in declaration order, which is also the order problems are
// reported in.
var rules = []rule{
	number("temperature", 0, 2, func(p Params) *float64 { return p.Temperature }),
	number("top_p", 0, 1, func(p Params) *float64 { return p.TopP }),
	integer("top_k", 0, math.MaxInt, func(p Params) *int { return p.TopK }),
	number("frequency_penalty", -2, 2, func(p Params) *float64 { return p.FrequencyPenalty }),
	number("presence_penalty", -2, 2, func(p Params) *float64 { return p.PresencePenalty }),
	number("repetition_penalty", 0, 2, func(p Params) *float64 { return p.RepetitionPenalty }),
	number("min_p", 0, 1, func(p Params) *float64 { return p.MinP }),
	number("top_a", 0, 1, func(p Params) *float64 { return p.TopA }),
	integer("seed", math.MinInt, math.MaxInt, func(p Params) *int { return p.Seed }),

	enum("reasoning.effort", efforts, func(p Params) *string {
		if p.Reasoning == nil {
			return nil
		}
		return p.Reasoning.Effort
	}),
	integer("reasoning.max_tokens", MinReasoningTokens, MaxReasoningTokens, reasoningMaxTokens),
	{path: "reasoning.exclude", kind: "boolean", allowed: "true or false"},
	{path: "reasoning.enabled", kind: "boolean", allowed: "true or false"},

	maxTokensRule(),
	stopRule(),
	logitBiasRule(),
	enum("response_format.type", responseFormats, func(p Params) *string {
		if p.ResponseFormat == nil {
			return nil
		}
		return &p.ResponseFormat.Type
	}),

	transformsRule(),
	enum("route", routes, func(p Params) *string { return p.Route }),
	enum("verbosity", verbosities, func(p Params) *string { return p.Verbosity }),
}

func reasoningMaxTokens(p Params) *int {
	if p.Reasoning == nil {
		return nil
	}
	return p.Reasoning.MaxTokens
}

func number(path string, lo, hi float64, get func(Params) *float64) rule {
	allowed := formatFloat(lo) + " to " + formatFloat(hi)
	return rule{path: path, kind: "number", allowed: allowed, check: func(p Params, c *problems) {
		v := get(p)
		// Written as "not inside" so that NaN, which compares false with
		// everything, is rejected rather than slipping through.
		if v != nil && !(*v >= lo && *v <= hi) {
			c.addf(path, "%s is out of range, allowed %s", formatFloat(*v), allowed)
		}
	}}
}

func integer(path string, lo, hi int, get func(Params) *int) rule {
	allowed := intRange(lo, hi)
	return rule{path: path, kind: "integer", allowed: allowed, check: func(p Params, c *problems) {
		if v := get(p); v != nil && (*v < lo || *v > hi) {
			c.addf(path, "%d is out of range, allowed %s", *v, allowed)
		}
	}}
}

func intRange(lo, hi int) string {
	switch {
	case lo == math.MinInt && hi == math.MaxInt:
		return "any integer"
	case hi == math.MaxInt:
		return fmt.Sprintf("%d or more", lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

func enum(path string, values []string, get func(Params) *string) rule {
	allowed := quoteAll(values)
	return rule{path: path, kind: "string", allowed: allowed, check: func(p Params, c *problems) {
		if v := get(p); v != nil && !slices.Contains(values, *v) {
			c.addf(path, "%s is not allowed, allowed %s", quote(*v), allowed)
		}
	}}
}

// maxTokensRule also carries the cross-field rule: the reasoning budget is
// spent out of max_tokens, so a budget that is not strictly smaller leaves
// no room for the reply itself.
func maxTokensRule() rule {
	const lo = 1
	allowed := intRange(lo, math.MaxInt) + ", and more than reasoning.max_tokens when both are set"
	return rule{path: "max_tokens", kind: "integer", allowed: allowed, check: func(p Params, c *problems) {
		v := p.MaxTokens
		if v == nil {
			return
		}
		if *v < lo {
			c.addf("max_tokens", "%d is out of range, allowed %s", *v, intRange(lo, math.MaxInt))
			return
		}
		// An out-of-range budget has its own error already; comparing
		// against it would only add noise.
		if r := reasoningMaxTokens(p); r != nil && *r >= MinReasoningTokens && *r <= MaxReasoningTokens && *v <= *r {
			c.addf("max_tokens", "%d must exceed reasoning.max_tokens (%d), allowed %d or more", *v, *r, *r+1)
		}
	}}
}

func stopRule() rule {
	allowed := fmt.Sprintf("at most %d non-empty strings", MaxStopSequences)
	return rule{path: "stop", kind: "array of strings", allowed: allowed, check: func(p Params, c *problems) {
		if len(p.Stop) > MaxStopSequences {
			c.addf("stop", "%d entries are too many, allowed %s", len(p.Stop), allowed)
		}
		for i, s := range p.Stop {
			if s == "" {
				c.addf(fmt.Sprintf("stop[%d]", i), `"" is empty, allowed %s`, allowed)
			}
		}
	}}
}

func logitBiasRule() rule {
	const lo, hi = -100, 100
	allowed := fmt.Sprintf("token ids (decimal integers such as \"50256\") mapped to numbers %d to %d", lo, hi)
	return rule{path: "logit_bias", kind: "object of numbers", allowed: allowed, check: func(p Params, c *problems) {
		for _, k := range slices.Sorted(maps.Keys(p.LogitBias)) {
			v := p.LogitBias[k]
			path := mapPath("logit_bias", k)
			if !isTokenID(k) {
				c.addf(path, "key %s is not a token id, allowed decimal integers such as \"50256\"", quote(k))
			}
			if !(v >= lo && v <= hi) {
				c.addf(path, "%s is out of range, allowed %d to %d", formatFloat(v), lo, hi)
			}
		}
	}}
}

// isTokenID accepts canonical non-negative decimal integers only. "007" and
// "7" would name the same token, and a provider may keep either one.
func isTokenID(s string) bool {
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && strconv.FormatUint(n, 10) == s
}

func transformsRule() rule {
	const allowed = `non-empty transform names such as "middle-out"; [] turns off the default transforms`
	return rule{path: "transforms", kind: "array of strings", allowed: allowed, check: func(p Params, c *problems) {
		for i, s := range p.Transforms {
			if s == "" {
				c.addf(fmt.Sprintf("transforms[%d]", i), `"" is empty, allowed %s`, allowed)
			}
		}
	}}
}

// formatFloat prints the shortest form that reads back as the same number,
// so an error shows exactly the value that was stored.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}
