package openrouter

import (
	"bytes"
	"encoding/json"
	"strings"
)

// defaultModel stands in for the account default OpenRouter uses when a
// request names no model.
const defaultModel = "openrouter/free"

// imageTokens is what one generated image adds to completion_tokens,
// matching Gemini's per-image accounting on OpenRouter.
const imageTokens = 1290

type chatRequest struct {
	Model               string        `json:"model"`
	Models              []string      `json:"models"`
	Messages            []chatMessage `json:"messages"`
	Stream              bool          `json:"stream"`
	MaxTokens           *int          `json:"max_tokens"`
	MaxCompletionTokens *int          `json:"max_completion_tokens"`
	Modalities          []string      `json:"modalities"`
	Reasoning           *struct {
		Effort    string `json:"effort"`
		MaxTokens *int   `json:"max_tokens"`
		Exclude   bool   `json:"exclude"`
		Enabled   *bool  `json:"enabled"`
	} `json:"reasoning"`
	IncludeReasoning *bool `json:"include_reasoning"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text flattens string or content-part array content; non-text parts
// (images, files) contribute nothing, as they would to a text echo.
func (m chatMessage) text() string {
	c := bytes.TrimSpace(m.Content)
	if len(c) == 0 || c[0] == 'n' {
		return ""
	}
	if c[0] == '"' {
		var s string
		if json.Unmarshal(c, &s) == nil {
			return s
		}
		return ""
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(c, &parts) != nil {
		return ""
	}
	var texts []string
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// images are the image_url URLs of every message's content parts, in order.
func (r chatRequest) images() []string {
	var out []string
	for _, m := range r.Messages {
		var parts []struct {
			Type     string `json:"type"`
			ImageURL struct {
				URL string `json:"url"`
			} `json:"image_url"`
		}
		if json.Unmarshal(m.Content, &parts) != nil {
			continue
		}
		for _, p := range parts {
			if p.Type == "image_url" {
				out = append(out, p.ImageURL.URL)
			}
		}
	}
	return out
}

func (r chatRequest) wantsReasoning() bool {
	if r.Reasoning != nil {
		return !r.Reasoning.Exclude && (r.Reasoning.Enabled == nil || *r.Reasoning.Enabled)
	}
	return r.IncludeReasoning != nil && *r.IncludeReasoning
}

// reasoningOff is OpenRouter's two ways of switching reasoning off:
// enabled false, or effort "none".
func (r chatRequest) reasoningOff() bool {
	return r.Reasoning != nil && ((r.Reasoning.Enabled != nil && !*r.Reasoning.Enabled) || r.Reasoning.Effort == "none")
}

// reasoningExcluded is reasoning.exclude: the model thinks, the text is not
// returned.
func (r chatRequest) reasoningExcluded() bool {
	return r.Reasoning != nil && r.Reasoning.Exclude
}

func (r chatRequest) wantsImage() bool {
	for _, m := range r.Modalities {
		if m == "image" {
			return true
		}
	}
	return false
}

func (r chatRequest) tokenLimit() int {
	switch {
	case r.MaxCompletionTokens != nil:
		return *r.MaxCompletionTokens
	case r.MaxTokens != nil:
		return *r.MaxTokens
	}
	return 0
}

func (r chatRequest) lastUserText() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].text()
		}
	}
	return ""
}

// requestedModel is the model a request asked for first, used in error
// messages even when it does not exist.
func (r chatRequest) requestedModel() string {
	if r.Model != "" {
		return r.Model
	}
	if len(r.Models) > 0 {
		return r.Models[0]
	}
	return defaultModel
}

// resolveModel honours OpenRouter's "models" fallback list: the first
// known candidate serves the request.
func (r chatRequest) resolveModel() (model, bool) {
	candidates := append([]string{r.requestedModel()}, r.Models...)
	for _, id := range candidates {
		if m, ok := findModel(id); ok {
			return m, true
		}
	}
	return model{}, false
}
