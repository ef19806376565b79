package openrouter

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/tzurot/tzurot/internal/llmparams"
)

// Message is one chat message. Content is plain text.
type Message struct {
	Role    string
	Content string
	// Name distinguishes speakers sharing a role, e.g. Discord users in a
	// channel; providers that ignore it are harmless.
	Name string
	// Images are image URLs or base64 data URLs
	// (data:image/png;base64,...): with any, the message is sent as
	// content parts, its text first and then one image_url part per image,
	// the order OpenRouter recommends
	// (https://openrouter.ai/docs/features/multimodal/images).
	Images []string
}

// ChatRequest is one chat completion, for [Client.Chat] or [Client.ChatStream].
type ChatRequest struct {
	Model    string
	Messages []Message
	// Params is the merged, validated advanced-parameters document; every
	// field it sets is sent as is.
	Params llmparams.Params
	// Modalities asks for output types, e.g. {"image", "text"} for image
	// generation models. Nil sends nothing.
	Modalities []string
}

// ChatResponse is the first choice of a completion.
type ChatResponse struct {
	ID    string
	Model string
	// Provider is the upstream OpenRouter routed the request to.
	Provider  string
	Content   string
	Reasoning string
	// FinishReason is OpenRouter's normalised reason the generation ended:
	// "stop", "length", "content_filter", "tool_calls" or "error"
	// (https://openrouter.ai/docs/api/reference/overview#finish-reason);
	// NativeFinishReason is the upstream model's own word for it
	// ("end_turn", "MAX_TOKENS", "SAFETY", …). Either may be empty.
	FinishReason       string
	NativeFinishReason string
	// Images are data URLs (data:image/png;base64,...).
	Images []string
	Usage  Usage
}

// Usage is OpenRouter's accounting for one call
// (https://openrouter.ai/docs/use-cases/usage-accounting): tokens by the
// model's own tokenizer, and the cost.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// ReasoningTokens are included in CompletionTokens.
	ReasoningTokens int
	// Cost is usage.cost, what the call charged the key's OpenRouter
	// credits, in USD (a credit is a dollar); nil when the answer carried
	// none.
	Cost *float64
	// BYOK is usage.is_byok: OpenRouter ran the call on the account's own
	// provider key, so the provider bills UpstreamCost
	// (usage.cost_details.upstream_inference_cost, USD; nil when not
	// reported) to that account directly and Cost is only OpenRouter's fee.
	BYOK         bool
	UpstreamCost *float64
}

// USD is what the call cost whoever holds the key, in US dollars: Cost,
// plus UpstreamCost when the call ran on the account's own provider key
// (BYOK), since that bill reaches the same account by another way. Nil when
// OpenRouter reported no cost.
func (u Usage) USD() *float64 {
	if u.Cost == nil {
		return nil
	}
	v := *u.Cost
	if u.BYOK && u.UpstreamCost != nil {
		v += *u.UpstreamCost
	}
	return &v
}

// Chat runs one chat completion (POST /chat/completions) with apiKey.
//
// Errors are *Error (see the package documentation): a non-2xx answer, an
// error object in a 200 body or on its choice (the upstream failed after
// OpenRouter committed to 200; Usage and Model then say what was billed),
// a 200 without choices or that does not decode, and any transport failure.
func (c *Client) Chat(ctx context.Context, apiKey string, req ChatRequest) (resp ChatResponse, err error) {
	defer timed(req.Model)(&resp.Model, &err)
	return call(ctx, c, apiKey, func(ctx context.Context) (ChatResponse, error) {
		return c.chat(ctx, apiKey, req)
	})
}

func (c *Client) chat(ctx context.Context, apiKey string, req ChatRequest) (ChatResponse, error) {
	body, err := chatBody(req, false)
	if err != nil {
		return ChatResponse{}, encodingError(err)
	}
	ex, err := c.send(ctx, http.MethodPost, "/chat/completions", apiKey, body)
	if err != nil {
		return ChatResponse{}, err
	}
	return chatAnswer(ex)
}

func encodingError(err error) *Error {
	return &Error{Kind: KindBadRequest, Message: "encoding the request: " + err.Error(), err: err}
}

// chatAnswer reads a 2xx chat completion body: its first choice, or the
// *Error the body or the choice carries.
func chatAnswer(ex exchange) (ChatResponse, error) {
	var doc completion
	if e := decodeAnswer(ex, &doc, &doc.Error); e != nil {
		return ChatResponse{}, e
	}
	if len(doc.Choices) == 0 {
		return ChatResponse{}, &Error{Kind: KindTransient, Status: ex.status, Message: "the response has no choices"}
	}
	ch := doc.Choices[0]
	u := doc.Usage
	if ch.Error.set {
		e := inBodyError(ch.Error, ex.header)
		e.Model = doc.Model
		e.Usage = u.usage()
		return ChatResponse{}, e
	}

	out := ChatResponse{
		ID:                 doc.ID,
		Model:              doc.Model,
		Provider:           doc.Provider.v,
		Content:            ch.Message.Content.text,
		Reasoning:          ch.Message.ReasoningContent,
		FinishReason:       string(ch.FinishReason),
		NativeFinishReason: ch.NativeFinishReason.v,
		Usage:              u.usage(),
	}
	if r := ch.Message.Reasoning.v; r != "" {
		out.Reasoning = r
	}
	out.Images = imageURLs(ch.Message.Images.v)
	return out, nil
}

// imagePart is one generated image of a message or a delta.
type imagePart struct {
	ImageURL struct {
		URL string `json:"url"`
	} `json:"image_url"`
}

func imageURLs(parts []imagePart) []string {
	var out []string
	for _, img := range parts {
		if img.ImageURL.URL != "" {
			out = append(out, img.ImageURL.URL)
		}
	}
	return out
}

// chatBody is the JSON body of POST /chat/completions
// (https://openrouter.ai/docs/api/reference/overview#requests), and the one
// place OpenRouter's request fields are added to OpenAI's: model and
// messages in go-openai's message type, then beside them every field the
// advanced parameters set (reasoning, top_k, min_p, transforms, route, …,
// by their OpenRouter names, from llmparams.Params.Map), modalities and
// usage accounting ({"include": true}, which the parameters cannot
// override), and with stream stream_options.include_usage. Each field
// appears once. The standard sampling fields go this way too rather
// than through go-openai's request struct, whose float32 omitempty fields
// would turn 0.7 into 0.699999988079071 and drop an explicit temperature 0.
func chatBody(req ChatRequest, stream bool) ([]byte, error) {
	body := req.Params.Map()
	if req.Modalities != nil {
		body["modalities"] = slices.Clone(req.Modalities)
	}
	msgs := make([]openai.ChatCompletionMessage, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content, Name: m.Name}
		if len(m.Images) > 0 {
			parts := []openai.ChatMessagePart{{Type: openai.ChatMessagePartTypeText, Text: m.Content}}
			for _, url := range m.Images {
				parts = append(parts, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: url}})
			}
			msgs[i].Content, msgs[i].MultiContent = "", parts
		}
	}
	body["model"] = req.Model
	body["messages"] = msgs
	body["stream"] = stream
	if stream {
		// OpenAI's way of asking for usage in the last chunk; OpenRouter
		// sends it regardless, a compatible endpoint may not.
		body["stream_options"] = map[string]bool{"include_usage": true}
	}
	// Usage accounting: OpenRouter's docs now call the flag deprecated, the
	// usage and its cost being in every answer, but an OpenRouter-compatible
	// endpoint or an older deployment may still report the cost only when
	// asked, and the flag costs nothing where it is ignored.
	body["usage"] = map[string]bool{"include": true}
	return marshal(body)
}

// marshal is json.Marshal without HTML escaping: stop sequences like "</s>"
// should reach the provider as written, not as \u003c/s\u003e, even though
// both decode the same.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeAnswer decodes a 2xx body into doc the way go-openai decodes: the
// first JSON value, keep-alive whitespace before it and anything after it
// ignored. It returns the failure the body holds: the error object
// OpenRouter put in it (*errObj, a field of doc, once decoded; kept even
// when the rest does not decode), or a transient "malformed response".
func decodeAnswer(ex exchange, doc any, errObj *errorObject) *Error {
	if err := json.NewDecoder(bytes.NewReader(ex.body)).Decode(doc); err != nil {
		if errObj.set {
			e := inBodyError(*errObj, ex.header)
			e.err = err
			return e
		}
		return &Error{Kind: KindTransient, Status: ex.status, Message: "malformed response: " + err.Error(), err: err}
	}
	if errObj.set {
		return inBodyError(*errObj, ex.header)
	}
	return nil
}

// completion is OpenRouter's chat completion, decoded once: OpenAI's fields
// (in go-openai's types where they fit) and OpenRouter's additions beside
// them, which go-openai's response type drops — provider, usage.cost, the
// message's reasoning and images, native_finish_reason, and the error
// object OpenRouter puts at the top or on a choice when the upstream fails
// after it committed to a 200
// (https://openrouter.ai/docs/api/reference/errors-and-debugging).
//
// The additions are lenient: a surprise in their type leaves them empty
// rather than throwing away a reply OpenAI's fields describe fine.
type completion struct {
	answerHead
	Choices []completionItem `json:"choices"`
	Usage   usageDoc         `json:"usage"`
}

// usageDoc is a usage object: OpenAI's token counts and OpenRouter's cost
// beside them (https://openrouter.ai/docs/use-cases/usage-accounting).
type usageDoc struct {
	openai.Usage
	Cost        lenient[*float64] `json:"cost"`
	IsBYOK      lenient[bool]     `json:"is_byok"`
	CostDetails lenient[struct {
		UpstreamInferenceCost *float64 `json:"upstream_inference_cost"`
	}] `json:"cost_details"`
}

func (u usageDoc) usage() Usage {
	out := Usage{
		PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens,
		Cost: u.Cost.v, BYOK: u.IsBYOK.v, UpstreamCost: u.CostDetails.v.UpstreamInferenceCost,
	}
	if d := u.CompletionTokensDetails; d != nil {
		out.ReasoningTokens = d.ReasoningTokens
	}
	return out
}

// answerHead is what a completion and a streamed chunk share at the top.
type answerHead struct {
	ID       string          `json:"id"`
	Model    string          `json:"model"`
	Provider lenient[string] `json:"provider"`
	Error    errorObject     `json:"error"`
}

// choiceHead is what a choice of either has beside its message or delta.
type choiceHead struct {
	FinishReason       openai.FinishReason `json:"finish_reason"`
	NativeFinishReason lenient[string]     `json:"native_finish_reason"`
	Error              errorObject         `json:"error"`
}

// completionItem is one choice of a completion.
type completionItem struct {
	choiceHead
	Message struct {
		Content content `json:"content"`
		// ReasoningContent is DeepSeek's name, which some providers
		// pass through; Reasoning, OpenRouter's, wins when both are set.
		ReasoningContent string               `json:"reasoning_content"`
		Reasoning        lenient[string]      `json:"reasoning"`
		Images           lenient[[]imagePart] `json:"images"`
	} `json:"message"`
}

// content is a message's content: a string, null, or (from some providers
// through OpenRouter) an array of go-openai's content parts, whose text
// parts are joined. Any other shape fails the decode, as in go-openai.
type content struct{ text string }

func (c *content) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	if json.Unmarshal(b, &c.text) == nil {
		return nil
	}
	var parts []openai.ChatMessagePart
	if err := json.Unmarshal(b, &parts); err != nil {
		return err
	}
	var text strings.Builder
	for _, p := range parts {
		if p.Type == openai.ChatMessagePartTypeText {
			text.WriteString(p.Text)
		}
	}
	c.text = text.String()
	return nil
}

// lenient is a T, or T's zero value when the JSON holds something else.
type lenient[T any] struct{ v T }

func (l *lenient[T]) UnmarshalJSON(b []byte) error {
	var v T
	if json.Unmarshal(b, &v) == nil {
		l.v = v
	}
	return nil
}
