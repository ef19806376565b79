//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/ent/userapikey"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
)

// setKey goes through /wallet set and its modal, returning what the user was told.
func (w *world) setKey(t *testing.T, userID, key string) string {
	t.Helper()
	ic := w.slash(userID, "wallet", "set")
	resp := w.responses(ic)
	if len(resp) != 1 || resp[0]["type"] != float64(9) {
		return w.ephemeralText(t, ic)
	}
	customID := resp[0]["data"].(map[string]any)["custom_id"].(string)
	return w.ephemeralText(t, w.submit(userID, customID, map[string]string{"key": key}))
}

func TestWalletSetOutcomes(t *testing.T) {
	w := newWorld(t, itest.Options{})
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	zero := 0.0
	const brokeKey = "sk-or-v1-9999999999999999999999999999999999999999999999999999999999999999"
	w.OpenRouter.AddKey(brokeKey, fakeopenrouter.Key{Credits: &zero})
	cases := []struct {
		key, want string
		stored    bool
	}{
		{"not-a-key-at-all-123456", "does not look like an OpenRouter key", false},
		{"sk-or-v1-1234123412341234123412341234123412341234123412341234123412341234", "did not accept that key", false},
		{brokeKey, "no credits left", false},
		{aliceKey, "works and is saved", true},
	}
	for _, tc := range cases {
		text := w.setKey(t, alice, tc.key)
		if !strings.Contains(text, tc.want) {
			t.Errorf("key %.12s…: told %q, want %q", tc.key, text, tc.want)
		}
		if strings.Contains(text, tc.key) {
			t.Errorf("the key was echoed back to the user")
		}
	}
	if n := w.DB.UserAPIKey.Query().CountX(context.Background()); n != 1 {
		t.Errorf("%d keys stored, want 1", n)
	}
	for _, k := range []string{aliceKey, brokeKey} {
		if strings.Contains(w.Logs.String(), k) {
			t.Error("a key appears in the log")
		}
	}
}

func TestWalletListRemoveAndTest(t *testing.T) {
	w := newWorld(t, itest.Options{GuestMode: config.GuestOff})
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	ctx := context.Background()
	if text := w.ephemeralText(t, w.slash(alice, "wallet", "list")); !strings.Contains(text, "no keys") {
		t.Errorf("empty list: %q", text)
	}
	w.setKey(t, alice, aliceKey)
	text := w.ephemeralText(t, w.slash(alice, "wallet", "list"))
	if !strings.Contains(text, "• OpenRouter: active") || strings.Contains(text, aliceKey) {
		t.Errorf("list: %q", text)
	}
	// Bob sees nothing of Alice's.
	if text := w.ephemeralText(t, w.slash(bob, "wallet", "list")); !strings.Contains(text, "no keys") {
		t.Errorf("bob's list: %q", text)
	}
	// /wallet test of a key the provider still refuses says so, in its own
	// words: the key stays stored (switched off), nothing about saving.
	w.DB.UserAPIKey.Update().SetIsActive(false).ExecX(ctx)
	w.OpenRouter.Revoke(aliceKey)
	if text := w.ephemeralText(t, w.slash(alice, "wallet", "test")); !strings.Contains(text, "still refuses your stored key") || !strings.Contains(text, "/wallet test again") || strings.Contains(text, "nothing was saved") {
		t.Errorf("test of a refused key: %q", text)
	}
	if n := w.DB.UserAPIKey.Query().CountX(ctx); n != 1 {
		t.Error("/wallet test of a refused key removed it")
	}
	// A switched-off key that works again is switched back on by /wallet test.
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	if text := w.ephemeralText(t, w.slash(alice, "wallet", "test")); !strings.Contains(text, "works and is switched on") {
		t.Errorf("test: %q", text)
	}
	if n := w.DB.UserAPIKey.Query().Where(userapikey.IsActive(true)).CountX(ctx); n != 1 {
		t.Error("/wallet test did not switch the key back on")
	}
	if text := w.ephemeralText(t, w.slash(alice, "wallet", "remove")); !strings.Contains(text, "Your OpenRouter key is deleted") {
		t.Errorf("remove: %q", text)
	}
	if n := w.DB.UserAPIKey.Query().CountX(ctx); n != 0 {
		t.Error("key not removed")
	}
}

func TestWalletWritesAreRateLimited(t *testing.T) {
	w := newWorld(t, itest.Options{})
	for i := 0; i < 10; i++ {
		w.slash(alice, "wallet", "remove")
	}
	text := w.ephemeralText(t, w.slash(alice, "wallet", "remove"))
	if !strings.Contains(text, "10 times in 15 minutes") {
		t.Fatalf("11th write: %q", text)
	}
	// 15 minutes later the window has moved on.
	w.now = w.now.Add(15 * 60e9)
	if text := w.ephemeralText(t, w.slash(alice, "wallet", "remove")); strings.Contains(text, "15 minutes") {
		t.Fatalf("after the window: %q", text)
	}
}

func TestCommandsRegisteredInTheDevGuild(t *testing.T) {
	w := newWorld(t, itest.Options{})
	w.Bot.Config.DiscordDevGuildID = guildID
	if err := w.Bot.RegisterCommands(appID); err != nil {
		t.Fatal(err)
	}
	got := w.Discord.Commands(guildID)
	names := map[string]bool{}
	for _, c := range got {
		names[c["name"].(string)] = true
	}
	for _, want := range []string{"wallet", "timezone", "usage", "admin", "config", "personality"} {
		if !names[want] {
			t.Errorf("command %s not registered in the guild (got %v)", want, names)
		}
	}
	if len(w.Discord.Commands("")) != 0 {
		t.Error("commands registered globally too")
	}
}

// An ElevenLabs key has one rule, the one the form and the refusal state:
// 20 to 200 letters, digits, _ and -. The form declares the same bounds.
func TestElevenLabsKeyShape(t *testing.T) {
	w := newWorld(t, itest.Options{})
	const refusal = "That does not look like an ElevenLabs key (20 to 200 letters, digits, _ and -, like sk_…); nothing was saved."
	cases := []struct {
		key     string
		refused bool
	}{
		{"sk_" + strings.Repeat("a", 16), true}, // 19
		{"sk_" + strings.Repeat("a", 17), false},
		{"sk_" + strings.Repeat("a", 197), false}, // 200
		{"sk_" + strings.Repeat("a", 198), true},
		{"sk_abc def 0123456789abcdef", true},
		{"sk_abc.def-0123456789abcdef", true},
	}
	for _, tc := range cases {
		text := w.ephemeralText(t, w.submit(alice, "wallet:set:elevenlabs", map[string]string{"key": tc.key}))
		if got := strings.HasPrefix(text, refusal); got != tc.refused {
			t.Errorf("key of %d characters %.8q…: told %q, refused %v, want %v", len(tc.key), tc.key, text, got, tc.refused)
		}
	}
	ic := w.slash(alice, "wallet", "set", str("provider", "elevenlabs"))
	data := w.responses(ic)[0]["data"].(map[string]any)
	input := data["components"].([]any)[0].(map[string]any)["components"].([]any)[0].(map[string]any)
	if input["min_length"] != float64(20) || input["max_length"] != float64(200) {
		t.Errorf("the form takes %v to %v characters, want 20 to 200", input["min_length"], input["max_length"])
	}
}

// A provider outside the command's choices is refused by every subcommand
// that takes one, naming the accepted ones, before anything is touched.
func TestWalletUnknownProvider(t *testing.T) {
	w := newWorld(t, itest.Options{})
	for _, sub := range []string{"set", "remove", "test"} {
		text := w.ephemeralText(t, w.slash(alice, "wallet", sub, str("provider", "openai")))
		if want := "Keys can be stored for OpenRouter and ElevenLabs only."; strings.TrimSpace(text) != want {
			t.Errorf("/wallet %s provider:openai: told %q, want %q", sub, text, want)
		}
	}
}
