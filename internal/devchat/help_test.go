package devchat

import (
	"strings"
	"testing"
)

// /help knows the chat's own commands, each with its own text, and lists
// them with the bot's.
func TestHelpKnowsTheChatsCommands(t *testing.T) {
	c := &Chat{}
	for _, h := range chatHelps {
		got := c.help([]string{h.name})
		if strings.HasPrefix(got, "There is no") || !strings.Contains(got, "/"+h.usage+" — "+h.short) {
			t.Errorf("/help %s = %q", h.name, got)
		}
		if !strings.Contains(c.commandList(), "/"+h.name) {
			t.Errorf("the command list lacks /%s", h.name)
		}
	}
	if got := c.help([]string{"/attach"}); !strings.Contains(got, "Quote a path with spaces") || !strings.Contains(got, "reply to the last personality message") {
		t.Errorf("/help attach = %q", got)
	}
}

// /prompt shows each message's role and text, image parts summarised
// (never their bytes) and no line that looks like a key.
func TestRenderChatRequest(t *testing.T) {
	body := `{"model":"m/x","messages":[{"role":"system","content":"You are a demo."},
		{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg"}}]},
		{"role":"user","content":"sk-or-v1-0123456789abcdef0123456789abcdef"}]}`
	got := renderChatRequest([]byte(body))
	for _, want := range []string{"gave m/x 3 message(s)", "\n  system: You are a demo.", "\n  user: what is this?\n    [image image/png, 0.0 KB]", "not shown"} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered request lacks %q:\n%s", want, got)
		}
	}
	for _, never := range []string{"iVBORw0KGgo", "sk-or-v1-0123"} {
		if strings.Contains(got, never) {
			t.Errorf("rendered request shows %q:\n%s", never, got)
		}
	}
}
