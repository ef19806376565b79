package openrouter

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/redact"
)

// KeyInfo is OpenRouter's description of a key (GET /key).
type KeyInfo struct {
	// Label is OpenRouter's masked form of the key, or the user's name for it.
	Label string
	// Limit is the credit limit in USD; nil means unlimited.
	Limit *float64
	// LimitRemaining is what is left of Limit; nil means unlimited.
	LimitRemaining *float64
	// Usage is the USD spent with the key so far.
	Usage      float64
	IsFreeTier bool
}

// CheckKey proves a key works by asking GET /key, which authenticates. The
// model list would not do: it is public and answers any key, or none.
//
// A 401 is an *Error of KindInvalidKey. A key whose limit is used up returns
// its KeyInfo together with an *Error of KindNoCredits, so the caller can both
// reject it and say how it stands.
func (c *Client) CheckKey(ctx context.Context, apiKey string) (KeyInfo, error) {
	return call(ctx, c, apiKey, func(ctx context.Context) (KeyInfo, error) {
		return c.checkKey(ctx, apiKey)
	})
}

func (c *Client) checkKey(ctx context.Context, apiKey string) (KeyInfo, error) {
	ex, err := c.send(ctx, http.MethodGet, provider.OpenRouterCheckPath, apiKey, nil)
	if err != nil {
		return KeyInfo{}, err
	}
	var doc struct {
		Data *struct {
			Label          string   `json:"label"`
			Limit          *float64 `json:"limit"`
			LimitRemaining *float64 `json:"limit_remaining"`
			Usage          float64  `json:"usage"`
			IsFreeTier     bool     `json:"is_free_tier"`
		} `json:"data"`
		Error errorObject `json:"error"`
	}
	if err := json.Unmarshal(ex.body, &doc); err != nil {
		return KeyInfo{}, &Error{Kind: KindTransient, Status: ex.status, Message: "malformed response: " + err.Error(), err: err}
	}
	if doc.Data == nil {
		if doc.Error.set {
			return KeyInfo{}, inBodyError(doc.Error, ex.header)
		}
		return KeyInfo{}, &Error{Kind: KindTransient, Status: ex.status, Message: "key response has no data"}
	}
	d := doc.Data
	info := KeyInfo{
		// The label is not an error, so the edge does not see it; it is
		// OpenRouter's masked form of the key, masked again in case.
		Label:          redact.Without(d.Label, apiKey),
		Limit:          d.Limit,
		LimitRemaining: d.LimitRemaining,
		Usage:          d.Usage,
		IsFreeTier:     d.IsFreeTier,
	}
	if info.LimitRemaining != nil && *info.LimitRemaining <= 0 {
		return info, &Error{Kind: KindNoCredits, Message: "the key has no credits left"}
	}
	return info, nil
}
