package provider_test

import (
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/elevenlabs"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/provider"
)

func TestCheckShape(t *testing.T) {
	or, _ := provider.Get(provider.OpenRouter)
	el, _ := provider.Get(provider.ElevenLabs)
	cases := []struct {
		p    provider.Provider
		key  string
		want string // a part of the refusal; "" means accepted
	}{
		{or, "sk-or-v1-" + strings.Repeat("a", 64), ""},
		{or, "sk_" + strings.Repeat("a", 48), "does not look like an OpenRouter key (they start with sk-or-v1-)"},
		{el, "sk_" + strings.Repeat("a", 48), ""},
		{el, strings.Repeat("0123abcd", 4), ""},
		{el, "sk-or-v1-" + strings.Repeat("a", 64), "That is an OpenRouter key, not an ElevenLabs one; nothing was saved. For OpenRouter run /wallet set provider:openrouter."},
		{el, "sk_short", "That does not look like an ElevenLabs key (20 to 200 letters, digits, _ and -, like sk_…)"},
		{el, "sk_" + strings.Repeat("a", 16), "(20 to 200 letters"}, // 19
		{el, "sk_" + strings.Repeat("a", 17), ""},                    // 20
		{el, "sk_" + strings.Repeat("a", 197), ""},                   // 200
		{el, "sk_" + strings.Repeat("a", 198), "(20 to 200 letters"}, // 201: one rule, the form's
		{el, "sk_" + strings.Repeat("a", 40) + " x", "(20 to 200 letters, digits, _ and -"},
	}
	for _, c := range cases {
		got := c.p.CheckShape(c.key)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s.CheckShape(%.12q…) = %q, want %q", c.p.ID, c.key, got, c.want)
		}
	}
}

// The table names the clients' kind for a refused key; a renamed kind would
// leave the table saying something no client returns.
func TestRefusedKindIsTheClientsKind(t *testing.T) {
	or, _ := provider.Get(provider.OpenRouter)
	el, _ := provider.Get(provider.ElevenLabs)
	if or.RefusedKind != string(openrouter.KindInvalidKey) || el.RefusedKind != string(elevenlabs.KindInvalidKey) {
		t.Errorf("RefusedKind = %q, %q; the clients say %q, %q", or.RefusedKind, el.RefusedKind, openrouter.KindInvalidKey, elevenlabs.KindInvalidKey)
	}
}

func TestGetAndDefault(t *testing.T) {
	if provider.Default().ID != provider.OpenRouter {
		t.Errorf("default provider %q", provider.Default().ID)
	}
	if _, ok := provider.Get("anthropic"); ok {
		t.Error("Get(anthropic) found a provider")
	}
	if provider.NameOf(provider.ElevenLabs) != "ElevenLabs" || provider.NameOf("x") != "x" {
		t.Error("NameOf")
	}
	if got := provider.Supported(); got != "Keys can be stored for OpenRouter and ElevenLabs only." {
		t.Errorf("Supported() = %q", got)
	}
}

// Every provider says every outcome of a key check, names a form and a
// check path: a blank here would be a blank answer to the user.
func TestEveryProviderIsComplete(t *testing.T) {
	for _, p := range provider.All() {
		w, r := p.Checked, p.Retested
		for name, v := range map[string]string{
			"Retested.Stored": r.Stored, "Retested.Invalid": r.Invalid, "Retested.NoCredits": r.NoCredits,
			"Retested.RateLimited": r.RateLimited, "Retested.Unavailable": r.Unavailable,
			"Name": p.Name, "Choice": p.Choice, "KeysURL": p.KeysURL, "BillingURL": p.BillingURL, "FormTitle": p.FormTitle, "FormLabel": p.FormLabel,
			"FormPlaceholder": p.FormPlaceholder, "CheckPath": p.CheckPath, "RefusedKind": p.RefusedKind,
			"Checked.Stored": w.Stored, "Checked.Invalid": w.Invalid, "Checked.NoCredits": w.NoCredits,
			"Checked.RateLimited": w.RateLimited, "Checked.Unavailable": w.Unavailable,
		} {
			if v == "" {
				t.Errorf("%s has no %s", p.ID, name)
			}
		}
		if p.MinKeyLen <= 0 || p.MaxKeyLen < p.MinKeyLen {
			t.Errorf("%s key lengths %d..%d", p.ID, p.MinKeyLen, p.MaxKeyLen)
		}
		if !strings.Contains(w.NoCredits, p.BillingURL) || !strings.Contains(w.Invalid, p.KeysURL) {
			t.Errorf("%s's answers name other pages than its table's: %q, %q", p.ID, w.NoCredits, w.Invalid)
		}
		if p.ID != provider.Default().ID && !strings.Contains(w.Invalid, "/wallet set"+p.WalletOption) {
			t.Errorf("%s's refusal does not say /wallet set%s: %q", p.ID, p.WalletOption, w.Invalid)
		}
		// /wallet test's answers are about the stored key: none says nothing
		// was saved, every failure says it is still stored and to test again.
		for _, v := range []string{r.Invalid, r.NoCredits, r.RateLimited, r.Unavailable} {
			if strings.Contains(v, "nothing was saved") || !strings.Contains(v, "stays stored") || !strings.Contains(v, "/wallet test"+p.WalletOption) {
				t.Errorf("%s's /wallet test answer %q", p.ID, v)
			}
		}
		if !strings.Contains(r.NoCredits, p.BillingURL) || !strings.Contains(r.Invalid, p.KeysURL) || !strings.Contains(r.Invalid, "/wallet set"+p.WalletOption) {
			t.Errorf("%s's /wallet test refusal %q", p.ID, r.Invalid)
		}
	}
}
