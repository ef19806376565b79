package openrouter

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// embeddingModel is one model of the stand-in's POST /embeddings.
type embeddingModel struct {
	id, provider string
	// dimensions is the model's native vector length; a request may ask for
	// fewer (OpenAI's text-embedding-3 models are trained to be cut).
	dimensions int
	// price is USD per input token, as OpenRouter publishes it.
	price string
}

// embeddingModels are the models /embeddings serves. They are not in the
// /models catalogue, which lists chat models.
var embeddingModels = []embeddingModel{
	{id: "openai/text-embedding-3-small", provider: "OpenAI", dimensions: 1536, price: "0.00000002"},
	{id: "openai/text-embedding-3-large", provider: "OpenAI", dimensions: 3072, price: "0.00000013"},
}

func findEmbeddingModel(id string) (embeddingModel, bool) {
	for _, m := range embeddingModels {
		if m.id == id {
			return m, true
		}
	}
	return embeddingModel{}, false
}

// stopwords carry no topic, so Embedding leaves them out: "what is my cat
// called?" and "my cat is called Pixel" then meet on "cat" and "called".
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be but by can did do does for from had has have
		he her his i if in is it its me my of on or our she so that the their them they this to
		was we were what when where which who why will with you your`) {
		stopwords[w] = true
	}
}

// words are text's lower-cased runs of letters and digits, stopwords left
// out unless nothing else is left.
func words(text string) []string {
	all := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var kept []string
	for _, w := range all {
		if !stopwords[w] {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		return all
	}
	return kept
}

// Embedding is the stand-in's deterministic embedding of text in dims
// dimensions: the sum of one pseudo-random direction per word (see words;
// seeded by the word's FNV-1a hash, so equal words always point the same
// way), scaled to length 1. Texts sharing words are near each other —
// two of three words in common gives a cosine similarity near 0.8 — and
// texts sharing none are near 0 (within a few 1/sqrt(dims)). A text with
// no letters or digits is embedded as if it were one word.
func Embedding(text string, dims int) []float32 {
	ws := words(text)
	if len(ws) == 0 {
		ws = []string{strings.TrimSpace(text)}
	}
	sum := make([]float64, dims)
	for _, w := range ws {
		h := fnv.New64a()
		_, _ = h.Write([]byte(w))
		state := h.Sum64()
		for i := range sum {
			// splitmix64: a full-period generator whose outputs are
			// uniform enough that two words' directions are nearly
			// orthogonal.
			state += 0x9e3779b97f4a7c15
			z := state
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
			z = (z ^ (z >> 27)) * 0x94d049bb133111eb
			z ^= z >> 31
			sum[i] += float64(z>>11)/float64(1<<53)*2 - 1
		}
	}
	var norm float64
	for _, x := range sum {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	out := make([]float32, dims)
	for i, x := range sum {
		out[i] = float32(x / norm)
	}
	return out
}

// embeddingRequest is the body of POST /embeddings
// (https://openrouter.ai/docs/api/api-reference/embeddings/create-embeddings):
// input is a string or an array of strings (token arrays are not served).
type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     *int            `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
}

func (r embeddingRequest) inputs() ([]string, bool) {
	var one string
	if json.Unmarshal(r.Input, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(r.Input, &many) == nil && len(many) > 0 {
		return many, true
	}
	return nil, false
}

// embeddings answers POST /embeddings: authentication, the key's script
// (the same steps as chat completions; FailInBody and FailInChoice answer
// as Fail would, the others as OK), credits, the model, then one vector per
// input with usage and cost.
func (s *Server) embeddings(ctx context.Context, body []byte, call *Call) *response {
	var req embeddingRequest
	ks, errResp := s.admit(body, &req, &req.Model, call)
	if errResp != nil {
		return errResp
	}
	step := s.nextStep(call.Key)
	if !fakehttp.Wait(ctx, s.opts.Latency+step.delay) {
		return nil
	}
	switch step.kind {
	case stepFail, stepFailInBody, stepFailInChoice:
		step.kind = stepFail
		return scriptedError(step, req.Model, "")
	case stepRateLimit:
		return dailyLimited(step, time.Now())
	}
	s.mu.Lock()
	broke := ks.Credits != nil && *ks.Credits-ks.usage <= 0
	s.mu.Unlock()
	if broke {
		return apiError(http.StatusPaymentRequired, insufficientCredits, nil)
	}
	m, ok := findEmbeddingModel(req.Model)
	if !ok {
		return apiError(http.StatusBadRequest, req.Model+" is not a valid embedding model ID", nil)
	}
	texts, ok := req.inputs()
	if !ok {
		return apiError(http.StatusBadRequest, "input must be a string or a non-empty array of strings", nil)
	}
	dims := m.dimensions
	if req.Dimensions != nil {
		if *req.Dimensions < 1 || *req.Dimensions > m.dimensions {
			return apiError(http.StatusBadRequest, "dimensions must be between 1 and "+strconv.Itoa(m.dimensions)+" for "+m.id, nil)
		}
		dims = *req.Dimensions
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" {
		return apiError(http.StatusBadRequest, "the stand-in answers encoding_format float only", nil)
	}
	data := make([]map[string]any, len(texts))
	promptTokens := 0
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return apiError(http.StatusBadRequest, "input["+strconv.Itoa(i)+"] is empty", nil)
		}
		promptTokens += tokens(t)
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": Embedding(t, dims)}
	}
	cost := price(m.price) * float64(promptTokens)
	s.mu.Lock()
	ks.usage += cost
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, map[string]any{
		"id":       s.nextID(),
		"object":   "list",
		"model":    m.id,
		"provider": m.provider,
		"data":     data,
		"usage": map[string]any{"prompt_tokens": promptTokens, "total_tokens": promptTokens, "cost": cost,
			"is_byok": false, "cost_details": costDetails()},
	})
}
