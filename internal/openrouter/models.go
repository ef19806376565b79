package openrouter

import (
	"context"
	"net/http"
	"slices"
)

// Model is one entry of OpenRouter's model list, reduced to what tzurot
// reads from it.
type Model struct {
	ID string
	// InputModalities is architecture.input_modalities: "text", "image",
	// "file", "audio", …
	InputModalities []string
}

// AcceptsImages reports whether the model takes image content parts.
func (m Model) AcceptsImages() bool { return slices.Contains(m.InputModalities, "image") }

// Models lists the models OpenRouter serves (GET /models,
// https://openrouter.ai/docs/api-reference/list-available-models). The list
// is public; apiKey is sent all the same, so a key's own limits apply.
//
// Errors are *Error, classified as for [Client.Chat].
func (c *Client) Models(ctx context.Context, apiKey string) ([]Model, error) {
	return call(ctx, c, apiKey, func(ctx context.Context) ([]Model, error) {
		ex, err := c.send(ctx, http.MethodGet, "/models", apiKey, nil)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Error errorObject `json:"error"`
			Data  []struct {
				ID           string `json:"id"`
				Architecture struct {
					InputModalities []string `json:"input_modalities"`
				} `json:"architecture"`
			} `json:"data"`
		}
		if e := decodeAnswer(ex, &doc, &doc.Error); e != nil {
			return nil, e
		}
		out := make([]Model, len(doc.Data))
		for i, d := range doc.Data {
			out[i] = Model{ID: d.ID, InputModalities: d.Architecture.InputModalities}
		}
		return out, nil
	})
}
