package openrouter

import (
	"slices"
	"strconv"
)

// model is one catalogue entry. Prices are USD per token, as strings,
// because OpenRouter publishes them as decimal strings to avoid float drift.
type model struct {
	id            string
	name          string
	provider      string
	created       int64
	contextLength int
	maxCompletion int
	prompt        string
	completion    string
	image         string
	input         []string
	output        []string
	reasoning     bool
	moderated     bool
	// routesTo is set for router models: OpenRouter answers with the id of
	// the model that actually served the request, not the router's id.
	routesTo string
}

// catalogue is immutable after init; every Server shares it read-only.
var catalogue = []model{
	{
		id: "openrouter/free", name: "Free Models Router", provider: "OpenRouter",
		created: 1735689600, contextLength: 131072, maxCompletion: 8192,
		prompt: "0", completion: "0",
		input: []string{"text"}, output: []string{"text"},
		routesTo: "meta-llama/llama-3.3-70b-instruct:free",
	},
	{
		id: "meta-llama/llama-3.3-70b-instruct:free", name: "Meta: Llama 3.3 70B Instruct (free)", provider: "Together",
		created: 1733506137, contextLength: 131072, maxCompletion: 8192,
		prompt: "0", completion: "0",
		input: []string{"text"}, output: []string{"text"},
	},
	{
		id: "anthropic/claude-sonnet-4", name: "Anthropic: Claude Sonnet 4", provider: "Anthropic",
		created: 1747930371, contextLength: 200000, maxCompletion: 64000,
		prompt: "0.000003", completion: "0.000015", image: "0.0048",
		input: []string{"text", "image"}, output: []string{"text"},
		reasoning: true, moderated: true,
	},
	{
		id: "google/gemma-3-27b-it:free", name: "Google: Gemma 3 27B (free)", provider: "Chutes",
		created: 1741756359, contextLength: 96000, maxCompletion: 8192,
		prompt: "0", completion: "0",
		input: []string{"text", "image"}, output: []string{"text"},
	},
	{
		id: "deepseek/deepseek-r1", name: "DeepSeek: R1", provider: "DeepSeek",
		created: 1737381095, contextLength: 163840, maxCompletion: 32768,
		prompt: "0.0000004", completion: "0.000002",
		input: []string{"text"}, output: []string{"text"},
		reasoning: true,
	},
	{
		id: "google/gemini-2.5-flash-image-preview", name: "Google: Gemini 2.5 Flash Image Preview", provider: "Google AI Studio",
		created: 1756218977, contextLength: 32768, maxCompletion: 8192,
		prompt: "0.0000003", completion: "0.0000025", image: "0.001238",
		input: []string{"image", "text"}, output: []string{"image", "text"},
	},
}

func findModel(id string) (model, bool) {
	for _, m := range catalogue {
		if m.id == id {
			return m, true
		}
	}
	return model{}, false
}

func (m model) inputs(modality string) bool { return slices.Contains(m.input, modality) }

func (m model) outputs(modality string) bool {
	for _, o := range m.output {
		if o == modality {
			return true
		}
	}
	return false
}

// cost prices a completion the way OpenRouter bills it: per prompt token,
// per completion token, plus a flat price per generated image.
func (m model) cost(promptTokens, completionTokens, images int) float64 {
	return price(m.prompt)*float64(promptTokens) +
		price(m.completion)*float64(completionTokens) +
		price(m.image)*float64(images)
}

func price(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v
}

func modality(in, out []string) string {
	join := func(xs []string) string {
		s := ""
		for i, x := range xs {
			if i > 0 {
				s += "+"
			}
			s += x
		}
		return s
	}
	return join(in) + "->" + join(out)
}

func (m model) json() map[string]any {
	params := []string{"max_tokens", "temperature", "top_p", "stop", "seed", "response_format"}
	if m.reasoning {
		params = append(params, "reasoning", "include_reasoning")
	}
	img := m.image
	if img == "" {
		img = "0"
	}
	return map[string]any{
		"id":             m.id,
		"canonical_slug": m.id,
		"name":           m.name,
		"created":        m.created,
		"description":    m.name + " (served by the tzurot offline fake).",
		"context_length": m.contextLength,
		"architecture": map[string]any{
			"modality":          modality(m.input, m.output),
			"input_modalities":  m.input,
			"output_modalities": m.output,
			"tokenizer":         "Other",
			"instruct_type":     nil,
		},
		"pricing": map[string]any{
			"prompt":     m.prompt,
			"completion": m.completion,
			"request":    "0",
			"image":      img,
		},
		"top_provider": map[string]any{
			"context_length":        m.contextLength,
			"max_completion_tokens": m.maxCompletion,
			"is_moderated":          m.moderated,
		},
		"per_request_limits":   nil,
		"supported_parameters": params,
	}
}
