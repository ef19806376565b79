//go:build integration

package devchat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/devchat"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
)

// otherTalk is 30 turns on other things than the cat, as a newcomer typed
// them: alike, so they share most words with each other (and, through the
// stand-in's echo, with every other memory), and their stopwords with
// "what is my cat called?". Their own memories are the nearest to the
// recent turns; only the message's weight and leaving out the exchanges
// the conversation already shows let the cat's memory through.
func otherTalk() []string {
	var out []string
	for n := 1; n <= 30; n++ {
		out = append(out, fmt.Sprintf("tell me about topic number %d, like weather and trains", n))
	}
	return out
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
	for _, l := range otherTalk() {
		lines = append(lines, "@demo "+l)
	}
	lines = append(lines, "@demo "+question,
		"/memory forget personality:demo", "/press Forget all",
		"@demo "+question)
	s, out, done := chatWorld(t, strings.Join(lines, "\n")+"\n")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitForOutput(t, out, "You are in #random.", "[Forget all] [Cancel]", "has forgotten its memories of you")

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
	// The exchanges the conversation carries are not recalled as well.
	if strings.Contains(memories, "topic number 30,") || strings.Contains(memories, "topic number 29,") {
		t.Errorf("memories repeat the conversation the request already carries:\n%s", memories)
	}
	// Each side is named: the user's display name, the personality's.
	if !strings.Contains(memories, devchat.ChatGlobalName+`: "@demo my cat is called Pixel"; Demo: "`) {
		t.Errorf("the memory does not name both speakers:\n%s", memories)
	}
	for _, m := range before.Messages[1:] {
		if strings.Contains(m.Content, "Pixel") {
			t.Errorf("Pixel reached the request through the conversation (%s turn), not the memory: %q", m.Role, m.Content)
		}
	}
	if len(before.Messages) < 4 {
		t.Errorf("the request carries %d messages: #random's other talk is missing from its history", len(before.Messages))
	}

	if !strings.Contains(out.String(), "has forgotten its memories of you (") || strings.Contains(out.String(), "(0 memories)") ||
		!strings.Contains(out.String(), "recent conversation in each channel stays") {
		t.Error("/memory forget, confirmed, did not forget the memories")
	}
	body, _ := json.Marshal(after)
	if strings.Contains(string(body), "Pixel") {
		t.Errorf("after /memory forget the request still carries Pixel:\n%s", body)
	}
}

// A script waits for the memory of a line's exchange, which the reply
// stores in a child workflow it does not wait for, before the next line:
// a question asked in another channel right after finds the memory though
// its embedding takes seconds.
func TestScriptedChatWaitsForTheMemoryOfTheLineBefore(t *testing.T) {
	const question = "what is my cat called?"
	s, _, _, say := chatWorldTyping(t)
	// The recall's embedding, the reply, then the memory's, which is slow.
	s.OpenRouter.Script(chatKey, fakeopenrouter.OK(), fakeopenrouter.OK(), fakeopenrouter.Delay(2*time.Second))
	for _, line := range []string{"/wallet set", chatKey, "@demo my cat is called Pixel", "/channel random", "@demo " + question} {
		say(line)
	}
	var asked []chatRequest
	testwait.Until(t, "the question to reach the model", func() bool {
		asked = requestsEndingWith(t, s, question)
		return len(asked) == 1
	})
	if system := asked[0].Messages[0].Content; !strings.Contains(system, "my cat is called Pixel") {
		t.Errorf("the question in #random was asked before the memory of the line before was stored:\n%s", system)
	}
}

// A message longer than Discord takes (2,000 characters) is refused by the
// chat as Discord would refuse it, and never reaches the bot: no reply, no
// embedding of 60,000 characters. One just under the limit goes through.
func TestChatRefusesAMessageOverDiscordsLimit(t *testing.T) {
	long := "@demo " + strings.Repeat("tell me ", 7500)
	ok := "@demo " + strings.Repeat("x", 1994)
	s, out, done := chatWorld(t, strings.Join([]string{"/wallet set", chatKey, long, ok}, "\n")+"\n")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitForOutput(t, out, "Not sent: Discord takes messages of up to 2000 characters", "and this one has 60005;")
	if got := requestsEndingWith(t, s, strings.Repeat("x", 1994)); len(got) != 1 {
		t.Errorf("%d requests for the 2,000-character message, want 1", len(got))
	}
	for _, c := range s.OpenRouter.CallsFor(chatKey) {
		if strings.Contains(string(c.Body), "tell me tell me tell me") {
			t.Errorf("the refused message reached %s", c.Path)
		}
	}
}
