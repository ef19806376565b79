package openrouter

import (
	"context"
	"fmt"
	"net/http"

	openai "github.com/sashabaranov/go-openai"
)

// Embeddings is the answer of one embeddings call.
type Embeddings struct {
	// Model is the model that answered, as OpenRouter names it.
	Model string
	// Vectors holds one embedding per input, in the inputs' order.
	Vectors [][]float32
	// Usage counts the input tokens (PromptTokens = TotalTokens) and the
	// cost in USD, nil when not reported.
	Usage Usage
}

// Embed turns inputs into embedding vectors with model (POST /embeddings,
// https://openrouter.ai/docs/api/api-reference/embeddings/create-embeddings),
// paid with apiKey.
//
// Errors are *Error, classified as for [Client.Chat]: a non-2xx answer
// (401 bad key, 402 no credits, 429 with its wait, 400 for an unknown
// model or a bad input), an error object in a 200 body, a 200 whose data
// does not hold exactly one vector per input, and any transport failure.
// No inputs, or an empty one, is a KindBadRequest without a call.
func (c *Client) Embed(ctx context.Context, apiKey, model string, inputs []string) (resp Embeddings, err error) {
	defer timed(model)(&resp.Model, &err)
	return call(ctx, c, apiKey, func(ctx context.Context) (Embeddings, error) {
		return c.embed(ctx, apiKey, model, inputs)
	})
}

func (c *Client) embed(ctx context.Context, apiKey, model string, inputs []string) (Embeddings, error) {
	if len(inputs) == 0 {
		return Embeddings{}, &Error{Kind: KindBadRequest, Message: "nothing to embed"}
	}
	for i, in := range inputs {
		if in == "" {
			return Embeddings{}, &Error{Kind: KindBadRequest, Message: fmt.Sprintf("input %d is empty; OpenRouter embeds no empty text", i)}
		}
	}
	body, err := marshal(openai.EmbeddingRequest{
		Input: inputs, Model: openai.EmbeddingModel(model), EncodingFormat: openai.EmbeddingEncodingFormatFloat,
	})
	if err != nil {
		return Embeddings{}, &Error{Kind: KindBadRequest, Message: "encoding the request: " + err.Error(), err: err}
	}
	ex, err := c.send(ctx, http.MethodPost, "/embeddings", apiKey, body)
	if err != nil {
		return Embeddings{}, err
	}
	var doc embeddingsDoc
	if e := decodeAnswer(ex, &doc, &doc.Error); e != nil {
		return Embeddings{}, e
	}
	out := Embeddings{
		Model:   string(doc.Model),
		Vectors: make([][]float32, len(inputs)),
		Usage:   doc.Usage.usage(),
	}
	for _, d := range doc.Data {
		if d.Index < 0 || d.Index >= len(inputs) || out.Vectors[d.Index] != nil || len(d.Embedding) == 0 {
			return Embeddings{}, &Error{Kind: KindTransient, Status: ex.status,
				Message: fmt.Sprintf("malformed response: embedding index %d (of %d inputs) is out of range, repeated or empty", d.Index, len(inputs))}
		}
		out.Vectors[d.Index] = d.Embedding
	}
	if len(doc.Data) != len(inputs) {
		return Embeddings{}, &Error{Kind: KindTransient, Status: ex.status,
			Message: fmt.Sprintf("malformed response: %d embeddings for %d inputs", len(doc.Data), len(inputs))}
	}
	return out, nil
}

// embeddingsDoc is OpenRouter's embeddings answer: OpenAI's fields in
// go-openai's types, with usage.cost and the error object beside them.
type embeddingsDoc struct {
	Model openai.EmbeddingModel `json:"model"`
	Data  []openai.Embedding    `json:"data"`
	Error errorObject           `json:"error"`
	Usage usageDoc              `json:"usage"`
}
