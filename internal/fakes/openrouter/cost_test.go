package openrouter_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
)

// TestUsageAccountingCost: every chat and embeddings answer carries usage
// accounting as OpenRouter documents it
// (https://openrouter.ai/docs/use-cases/usage-accounting): usage.cost in
// credits (USD) from the catalogue's per-token prices, the same for the same
// request, is_byok false and cost_details — with or without the deprecated
// "usage": {"include": true} in the request.
func TestUsageAccountingCost(t *testing.T) {
	_, srv := setupWithKey(t)
	post := func(path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
		}
		var doc struct {
			Usage map[string]any `json:"usage"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Usage
	}
	// 16 characters: 4 prompt tokens each for system and user.
	const msgs = `"messages":[{"role":"system","content":"You are Lilith."},{"role":"user","content":"hello, how goes?"}]`
	asked := post("/chat/completions", `{"model":"anthropic/claude-sonnet-4",`+msgs+`,"usage":{"include":true}}`)
	unasked := post("/chat/completions", `{"model":"anthropic/claude-sonnet-4",`+msgs+`}`)
	for name, u := range map[string]map[string]any{"asked": asked, "not asked": unasked} {
		pt, ct := u["prompt_tokens"].(float64), u["completion_tokens"].(float64)
		want := pt*0.000003 + ct*0.000015
		if c, ok := u["cost"].(float64); !ok || math.Abs(c-want) > 1e-12 || c == 0 {
			t.Errorf("%s: cost = %v, want %v (claude-sonnet-4's prices)", name, u["cost"], want)
		}
		if u["is_byok"] != false {
			t.Errorf("%s: is_byok = %v, want false", name, u["is_byok"])
		}
		if d, ok := u["cost_details"].(map[string]any); !ok || d["upstream_inference_cost"] != nil {
			t.Errorf("%s: cost_details = %v, want upstream_inference_cost null", name, u["cost_details"])
		}
	}
	if asked["cost"] != unasked["cost"] {
		t.Errorf("the same request cost %v then %v", asked["cost"], unasked["cost"])
	}
	free := post("/chat/completions", `{"model":"meta-llama/llama-3.3-70b-instruct:free",`+msgs+`}`)
	if free["cost"] != 0.0 {
		t.Errorf("free model cost = %v, want 0", free["cost"])
	}
	emb := post("/embeddings", `{"model":"openai/text-embedding-3-small","input":["my cat is called Pixel"]}`)
	if c, ok := emb["cost"].(float64); !ok || c <= 0 || emb["is_byok"] != false {
		t.Errorf("embeddings usage = %v, want a cost and is_byok false", emb)
	}
}
