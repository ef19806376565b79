//go:build integration

package devchat_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/itest"
)

// otherTalk is 30 turns on other things than the cat, sharing no word with
// "what is my cat called?" but the stopwords.
var otherTalk = []string{
	"how is the weather in Paris today?",
	"recommend a good book about space travel",
	"what should I cook for dinner tonight?",
	"tell me a joke about programmers",
	"how do volcanoes form?",
	"which tea goes well with breakfast?",
	"explain how rainbows appear",
	"what is the tallest mountain in Europe?",
	"give me tips for running a marathon",
	"how does a bicycle gear work?",
	"suggest a song for a rainy afternoon",
	"why is the sea salty?",
	"what makes bread rise?",
	"how far away is the moon?",
	"name three famous painters",
	"how do bees make honey?",
	"what is a good houseplant for beginners?",
	"explain chess openings briefly",
	"how do trains stay on rails?",
	"what language is spoken in Brazil?",
	"how long should eggs boil?",
	"what causes thunder?",
	"suggest a weekend hiking trail",
	"how do airplanes fly?",
	"what is the capital of Canada?",
	"why do leaves change colour in autumn?",
	"how can I sleep better?",
	"what is jazz improvisation?",
	"how are glaciers formed?",
	"what is the best way to learn guitar?",
}

// chatRequest is a chat completion the OpenRouter stand-in received.
type chatRequest struct {
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

// requestsEndingWith are the chat completions whose last message is the
// user's text, in the order they arrived.
func requestsEndingWith(t *testing.T, s *itest.Stack, text string) []chatRequest {
	t.Helper()
	var out []chatRequest
	for _, c := range s.OpenRouter.CallsFor(chatKey) {
		if !strings.HasSuffix(c.Path, "/chat/completions") {
			continue
		}
		var r chatRequest
		if err := json.Unmarshal(c.Body, &r); err != nil || len(r.Messages) == 0 {
			t.Fatalf("chat request %s: %v", c.Body, err)
		}
		if last := r.Messages[len(r.Messages)-1]; last.Role == "user" && strings.HasSuffix(last.Content, text) {
			out = append(out, r)
		}
	}
	return out
}

// The "done when", in the offline chat: tell @demo the cat's name
// in #general, move to #random, talk of other things for 30 turns, ask —
// the request to the model carries the memory in its system prompt's
// memories, not in the conversation. /memory forget, confirmed with its
// button, then removes it: the next request has no Pixel anywhere.
func TestChatRemembersAcrossChannelsUntilForgotten(t *testing.T) {
	const question = "what is my cat called?"
	lines := []string{"/wallet set", chatKey, "@demo my cat is called Pixel", "/channel random"}
	for _, l := range otherTalk {
		lines = append(lines, "@demo "+l)
	}
	lines = append(lines, "@demo "+question,
		"/memory forget personality:demo", "/press Forget all",
		"@demo "+question)
	s, out, done := chatWorld(t, strings.Join(lines, "\n")+"\n")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitForOutput(t, out, "You are in #random.", "[Forget all] [Cancel]", "has forgotten everything about you")

	asked := requestsEndingWith(t, s, question)
	if len(asked) != 2 {
		t.Fatalf("%d chat requests asked %q, want 2 (before and after /memory forget)", len(asked), question)
	}
	before, after := asked[0], asked[1]
	system := before.Messages[0]
	if system.Role != "system" {
		t.Fatalf("the first message of the request is %q, want the system prompt", system.Role)
	}
	_, memories, ok := strings.Cut(system.Content, "Things you remember about")
	if !ok || !strings.Contains(memories, "my cat is called Pixel") {
		t.Errorf("the cat question's system prompt has no memory of Pixel:\n%s", system.Content)
	}
	for _, m := range before.Messages[1:] {
		if strings.Contains(m.Content, "Pixel") {
			t.Errorf("Pixel reached the request through the conversation (%s turn), not the memory: %q", m.Role, m.Content)
		}
	}
	if len(before.Messages) < 4 {
		t.Errorf("the request carries %d messages: #random's other talk is missing from its history", len(before.Messages))
	}

	if !strings.Contains(out.String(), "has forgotten everything about you (") || strings.Contains(out.String(), "(0 memories)") {
		t.Error("/memory forget, confirmed, did not forget the memories")
	}
	body, _ := json.Marshal(after)
	if strings.Contains(string(body), "Pixel") {
		t.Errorf("after /memory forget the request still carries Pixel:\n%s", body)
	}
}
