package openrouter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// EchoReply is the content of an unscripted reply: deterministic, short,
// and containing the last user message so tests can assert on it.
func EchoReply(model, lastUserMessage string) string {
	if lastUserMessage == "" {
		return fmt.Sprintf("Echo from %s: (no user message)", model)
	}
	return fmt.Sprintf("Echo from %s: %s", model, lastUserMessage)
}

// EchoReasoning is the reasoning of an unscripted reply to a request that
// asked for reasoning from a model that supports it.
func EchoReasoning(lastUserMessage string) string {
	return fmt.Sprintf("The user said %q. I will echo it back.", lastUserMessage)
}

// tokens approximates a tokenizer as one token per four characters, which
// is close enough for usage accounting and fully deterministic.
func tokens(s string) int {
	return (utf8.RuneCountInString(s) + 3) / 4
}

// nextStep takes key's next scripted step, or [OK] once its queue is empty.
func (s *Server) nextStep(key string) Step {
	if step, ok := fakehttp.NextStep(&s.stand, key); ok {
		return step
	}
	return OK()
}

func (s *Server) nextID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("gen-%d-fake%016x", time.Now().Unix(), s.seq)
}

// admit decodes a POST's JSON body into req and records the model it
// names (*model, once decoded), then authenticates the key: a bad key is
// refused before a body that does not decode, as OpenRouter does.
func (s *Server) admit(body []byte, req any, model *string, call *Call) (*keyState, *response) {
	parseErr := json.Unmarshal(body, req)
	if parseErr == nil {
		call.Model = *model
	}
	ks, errResp := s.authenticate(call.Key)
	if errResp != nil {
		return nil, errResp
	}
	if parseErr != nil {
		return nil, apiError(http.StatusBadRequest, "Invalid JSON in request body", nil)
	}
	return ks, nil
}

func (s *Server) chat(ctx context.Context, body []byte, call *Call) *response {
	var req chatRequest
	ks, errResp := s.admit(body, &req, &req.Model, call)
	if errResp != nil {
		return errResp
	}

	call.Images = req.images()
	step := s.nextStep(call.Key)
	if ks.magic == "daily" && step.kind == stepOK && isFreeModel(req.requestedModel()) {
		// An AcceptAnyKey "…daily…" key has used its 50 free-model
		// requests today, as an account that never bought credits does.
		step = FreeModelsPerDay(50)
	}
	if !fakehttp.Wait(ctx, s.opts.Latency+step.delay) {
		return nil
	}
	prompt := req.lastUserText()
	switch step.kind {
	case stepFail:
		return scriptedError(step, req.requestedModel(), prompt)
	case stepRateLimit:
		return dailyLimited(step, time.Now())
	}
	if len(req.Messages) == 0 {
		return apiError(http.StatusBadRequest, `Input required: specify "prompt" or "messages"`, nil)
	}

	s.mu.Lock()
	broke := ks.Credits != nil && *ks.Credits-ks.usage <= 0
	s.mu.Unlock()
	if broke {
		return apiError(http.StatusPaymentRequired, insufficientCredits, nil)
	}

	m, ok := req.resolveModel()
	if !ok {
		return apiError(http.StatusNotFound, "No endpoints found for "+req.requestedModel()+".", nil)
	}
	if req.wantsImage() && !m.outputs("image") {
		return apiError(http.StatusNotFound, "No endpoints found that support the requested output modalities: "+strings.Join(req.Modalities, ", "), nil)
	}
	if len(call.Images) > 0 && !m.inputs("image") {
		return apiError(http.StatusNotFound, "No endpoints found that support image input", nil)
	}
	served := m
	if m.routesTo != "" {
		if routed, ok := findModel(m.routesTo); ok {
			served = routed
		}
	}

	g := generation{id: s.nextID(), created: time.Now().Unix(), model: served.id, provider: served.provider}
	switch step.kind {
	case stepFailInBody:
		msg, meta := statusError(step.status, served.id, prompt)
		return g.errorInBody(req.Stream, errorBody{Code: step.status, Message: msg, Metadata: meta})
	case stepFailInChoice:
		msg, meta := statusError(step.status, served.id, prompt)
		return g.errorInChoice(req.Stream, errorBody{Code: step.status, Message: msg, Metadata: meta})
	}

	g.content = EchoReply(served.id, prompt)
	if len(call.Images) > 0 {
		g.content += " " + DescribeImages(call.Images)
	}
	showReasoning := req.wantsReasoning()
	if showReasoning && served.reasoning {
		g.reasoning = EchoReasoning(prompt)
	}
	g.finish = "stop"
	switch step.kind {
	case stepReply:
		g.content = step.content
		if step.reasoning != "" {
			g.reasoning = step.reasoning
			showReasoning = true
		}
	case stepThink:
		if served.reasoning && !req.reasoningOff() {
			g.reasoning = thinking(step.thinkTokens)
			showReasoning = !req.reasoningExcluded()
		}
	case stepFinish:
		g.content, g.finish = step.content, step.finish
	}
	if limit := req.tokenLimit(); limit > 0 && step.kind != stepFinish {
		// The model thinks first, and its reasoning tokens are output
		// tokens: they spend max_tokens before the answer gets any.
		if rt := tokens(g.reasoning); rt >= limit && g.reasoning != "" {
			g.reasoning = string([]rune(g.reasoning)[:limit*4])
			g.content = ""
			g.finish = "length"
		} else if budget := limit - rt; tokens(g.content) > budget {
			g.content = string([]rune(g.content)[:budget*4])
			g.finish = "length"
		}
	}
	if req.wantsImage() {
		url, err := imageDataURL(prompt)
		if err != nil {
			return apiError(http.StatusInternalServerError, "image generation failed", nil)
		}
		g.images = []string{url}
	}

	g.rate = s.opts.Stream
	if step.rate != nil {
		g.rate = *step.rate
	}
	switch step.kind {
	case stepFailMidStream:
		g.truncate(step.afterTokens)
		msg, meta := statusError(step.status, served.id, prompt)
		if step.status == http.StatusTooManyRequests {
			// Mid-generation, only the provider can be the one limiting.
			msg, meta = upstreamRateLimited(served.id)
		}
		g.failure = &errorBody{Code: step.status, Message: msg, Metadata: meta}
	case stepDropMidStream:
		g.truncate(step.afterTokens)
		g.drop = true
	}

	for _, msg := range req.Messages {
		g.promptTokens += tokens(msg.text())
	}
	g.reasoningTokens = tokens(g.reasoning)
	g.completionTokens = tokens(g.content) + g.reasoningTokens + imageTokens*len(g.images)
	if !showReasoning {
		// Billed all the same.
		g.reasoning = ""
	}
	g.cost = served.cost(g.promptTokens, g.completionTokens, len(g.images))

	s.mu.Lock()
	ks.usage += g.cost
	s.mu.Unlock()

	if req.Stream {
		return g.streamed()
	}
	// The model takes as long to generate an answer it does not stream.
	if !fakehttp.Wait(ctx, g.rate.at(utf8.RuneCountInString(g.reasoning)+utf8.RuneCountInString(g.content))) {
		return nil
	}
	switch {
	case g.failure != nil:
		return g.errorInChoice(false, *g.failure)
	case g.drop:
		return g.droppedBody()
	}
	return jsonResponse(http.StatusOK, g.completion())
}

// generation is one completed (or failed) model answer.
type generation struct {
	id, model, provider string
	created             int64
	content, reasoning  string
	images              []string
	finish              string

	promptTokens, completionTokens, reasoningTokens int
	cost                                            float64

	// rate paces a stream; failure, if set, ends it after the text
	// generated so far with an error event, and drop, with a dropped
	// connection.
	rate    StreamRate
	failure *errorBody
	drop    bool
}

func (g generation) envelope(object string) map[string]any {
	return map[string]any{
		"id":                 g.id,
		"provider":           g.provider,
		"model":              g.model,
		"object":             object,
		"created":            g.created,
		"system_fingerprint": nil,
	}
}

// usage is the answer's usage object as OpenRouter's usage accounting
// documents it (https://openrouter.ai/docs/use-cases/usage-accounting), in
// every answer whether or not the request sent the deprecated
// "usage": {"include": true}: tokens, cost in credits (USD) from the
// catalogue's prices, and — the stand-in's keys being OpenRouter credits,
// never the account's own provider keys — is_byok false.
func (g generation) usage() map[string]any {
	return map[string]any{
		"prompt_tokens":     g.promptTokens,
		"completion_tokens": g.completionTokens,
		"total_tokens":      g.promptTokens + g.completionTokens,
		"cost":              g.cost,
		"is_byok":           false,
		"cost_details":      costDetails(),
		"prompt_tokens_details": map[string]any{
			"cached_tokens": 0,
		},
		"completion_tokens_details": map[string]any{
			"reasoning_tokens": g.reasoningTokens,
			"image_tokens":     imageTokens * len(g.images),
		},
	}
}

func (g generation) imageParts() []map[string]any {
	out := make([]map[string]any, 0, len(g.images))
	for _, url := range g.images {
		out = append(out, map[string]any{
			"type":      "image_url",
			"image_url": map[string]any{"url": url},
		})
	}
	return out
}

func (g generation) completion() map[string]any {
	msg := map[string]any{"role": "assistant", "content": g.content, "refusal": nil}
	if g.reasoning != "" {
		msg["reasoning"] = g.reasoning
	}
	if len(g.images) > 0 {
		msg["images"] = g.imageParts()
	}
	out := g.envelope("chat.completion")
	out["choices"] = []map[string]any{{
		"index":                0,
		"logprobs":             nil,
		"finish_reason":        g.finish,
		"native_finish_reason": g.finish,
		"message":              msg,
	}}
	out["usage"] = g.usage()
	return out
}

// isFreeModel is OpenRouter's free variant: a ":free" model id, or the
// openrouter/free router.
func isFreeModel(id string) bool {
	return strings.HasSuffix(id, ":free") || id == "openrouter/free"
}

// costDetails is usage.cost_details of a call paid with credits: no
// upstream bill of the account's own (upstream_inference_cost null, which
// OpenRouter fills only for BYOK).
func costDetails() map[string]any {
	return map[string]any{"upstream_inference_cost": nil}
}
