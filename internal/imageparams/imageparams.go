// Package imageparams is the advanced_parameters document of an image config:
// a small, closed set of fields, validated with one-line errors that name the
// field, in the style of llmparams.
package imageparams

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Size bounds for one side of a requested image, in pixels.
const (
	MinSide = 256
	MaxSide = 2048
)

// maxText bounds each prompt fragment: they are prepended or appended to
// every prompt, and a runaway value would crowd out what the user asked.
const maxText = 1000

// Params are an image config's advanced parameters.
type Params struct {
	// PromptPrefix goes before every prompt, e.g. the personality's style.
	PromptPrefix string `json:"promptPrefix,omitempty"`
	// NegativePrompt and DefaultNegativePrompt are both asked to be avoided;
	// the default is the operator's baseline, the other the personality's.
	NegativePrompt        string `json:"negativePrompt,omitempty"`
	DefaultNegativePrompt string `json:"defaultNegativePrompt,omitempty"`
	// Sizes, when set, are the only WxH sizes a user may ask for.
	Sizes []string `json:"sizes,omitempty"`
}

// Parse decodes and validates a document; unknown keys are errors so a typo
// is noticed instead of silently ignored.
func Parse(data []byte) (Params, error) {
	var p Params
	if len(bytes.TrimSpace(data)) == 0 || string(bytes.TrimSpace(data)) == "null" {
		return p, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Params{}, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Params{}, errors.New("advanced parameters: trailing data after the JSON object")
	}
	return p, p.Validate()
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "" {
		return fmt.Errorf("advanced parameters: must be a JSON object, not %s", te.Value)
	}
	if errors.As(err, &te) {
		return fmt.Errorf("%s: must be %s, not %s", te.Field, want(te.Field), te.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("%s: unknown field (allowed: promptPrefix, negativePrompt, defaultNegativePrompt, sizes)", strings.Trim(f, `"`))
	}
	return fmt.Errorf("advanced parameters: %s", strings.ReplaceAll(strings.TrimPrefix(msg, "json: "), "\n", " "))
}

func want(field string) string {
	if field == "sizes" {
		return "a list of WxH strings"
	}
	if strings.HasPrefix(field, "sizes") {
		return "a WxH string"
	}
	return "a string"
}

// Validate checks lengths and sizes.
func (p Params) Validate() error {
	for _, f := range []struct{ name, v string }{
		{"promptPrefix", p.PromptPrefix}, {"negativePrompt", p.NegativePrompt}, {"defaultNegativePrompt", p.DefaultNegativePrompt},
	} {
		if n := len([]rune(f.v)); n > maxText {
			return fmt.Errorf("%s: at most %d characters, got %d", f.name, maxText, n)
		}
	}
	for i, s := range p.Sizes {
		if _, _, err := ParseSize(s); err != nil {
			return fmt.Errorf("sizes[%d]: %v", i, err)
		}
	}
	return nil
}

// ParseSize reads "WxH" with each side within MinSide..MaxSide.
func ParseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("%q is not WxH, e.g. 1024x1024", s)
	}
	if w < MinSide || w > MaxSide || h < MinSide || h > MaxSide {
		return 0, 0, fmt.Errorf("%q: each side must be %d to %d pixels", s, MinSide, MaxSide)
	}
	return w, h, nil
}

// Size is the size to generate, as WxH: def when nothing was requested,
// else the requested size when it is WxH with each side MinSide..MaxSide and,
// when the config lists Sizes, one of them. Anything else is a one-line error
// naming what is accepted (see Accepted), never a quiet fall back to def: a
// picture of another size than the one asked for is a surprise, and usage is
// charged for it.
func (p Params) Size(requested, def string) (string, error) {
	requested = strings.TrimSpace(requested)
	if requested == "" {
		return def, nil
	}
	if w, h, err := ParseSize(requested); err == nil {
		norm := fmt.Sprintf("%dx%d", w, h)
		if len(p.Sizes) == 0 {
			return norm, nil
		}
		for _, s := range p.Sizes {
			if aw, ah, err := ParseSize(s); err == nil && aw == w && ah == h {
				return norm, nil
			}
		}
	}
	if r := []rune(requested); len(r) > 20 {
		requested = string(r[:19]) + "…"
	}
	return "", fmt.Errorf("size %q is not accepted: %s", requested, p.Accepted())
}

// Accepted says, for a user, which sizes may be asked for: the config's
// Sizes when it lists them, else any WxH within MinSide..MaxSide.
func (p Params) Accepted() string {
	if len(p.Sizes) > 0 {
		return "this personality draws " + strings.Join(p.Sizes, ", ")
	}
	return fmt.Sprintf("give WxH with each side %d to %d pixels, e.g. 1024x768", MinSide, MaxSide)
}

// Prompt is the text sent to the model: the prefix, the user's prompt, the
// size (chat-completions image models take no pixel-size parameter, so it
// is asked for in words) and what to avoid.
func (p Params) Prompt(prompt, size string) string {
	var sb strings.Builder
	if s := strings.TrimSpace(p.PromptPrefix); s != "" {
		sb.WriteString(s)
		sb.WriteString(" ")
	}
	sb.WriteString(strings.TrimSpace(prompt))
	if size != "" {
		fmt.Fprintf(&sb, "\n\nImage size: %s.", size)
	}
	var avoid []string
	for _, s := range []string{p.NegativePrompt, p.DefaultNegativePrompt} {
		if s = strings.TrimSpace(s); s != "" {
			avoid = append(avoid, s)
		}
	}
	if len(avoid) > 0 {
		fmt.Fprintf(&sb, "\nAvoid: %s.", strings.Join(avoid, ", "))
	}
	return sb.String()
}
