package activities

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/openrouter"
)

// Recalled memories go into a section of the system prompt of their own,
// marked as memories, oldest first, each dated in the user's zone; the
// conversation's messages are left alone.
func TestMemoriesSectionOfTheSystemPrompt(t *testing.T) {
	msgs := []openrouter.Message{{Role: "system", Content: "You are Kerach."}, {Role: "user", Content: "what is my cat called?"}}
	late := time.Date(2026, 11, 2, 23, 30, 0, 0, time.UTC) // 3 November in Tokyo
	found := []memory.Scored{
		{Memory: memory.Memory{Content: `alice: "my cat is called Pixel"; you: "A fine name."`, CreatedAt: late}, Score: 0.9},
		{Memory: memory.Memory{Content: "alice: \"I live\nin Leeds\"; you: \"Nice.\"", CreatedAt: late.AddDate(0, -1, 0)}, Score: 0.4},
	}
	out := withMemories(msgs, "alice", "Asia/Tokyo", found)
	want := "You are Kerach.\n\nThings you remember about alice (from earlier conversations; memories, not this conversation):\n" +
		"- (2026-10-03) alice: \"I live in Leeds\"; you: \"Nice.\"\n" +
		"- (2026-11-03) alice: \"my cat is called Pixel\"; you: \"A fine name.\""
	if out[0].Content != want {
		t.Errorf("system prompt\n%s\nwant\n%s", out[0].Content, want)
	}
	if msgs[0].Content != "You are Kerach." || !reflect.DeepEqual(out[1], msgs[1]) || len(out) != 2 {
		t.Errorf("messages changed beyond the system prompt: %+v (given %+v)", out, msgs)
	}
	if got := withMemories(msgs, "alice", "UTC", nil); got[0].Content != "You are Kerach." {
		t.Errorf("nothing recalled, yet the prompt is %q", got[0].Content)
	}
}

// The query is the last n turns, both sides, then the new message.
func TestRecallQueryIsTheLastTurnsAndTheMessage(t *testing.T) {
	history := []Turn{{Role: "user", Content: "one"}, {Role: "assistant", Content: "two"}, {Role: "user", Content: "three"}, {Role: "assistant", Content: "four"}}
	for n, want := range map[int]string{0: "now", 2: "three\nfour\nnow", 10: "one\ntwo\nthree\nfour\nnow"} {
		if got := recallQuery(history, n, "now"); got != want {
			t.Errorf("%d turns: %q, want %q", n, got, want)
		}
	}
}

// A memory is the exchange on one line, each side cut short.
func TestMemoryContentIsTheExchangeShort(t *testing.T) {
	got := memoryContent("", "my cat\nis called Pixel", strings.Repeat("x", 1000))
	if !strings.HasPrefix(got, `the user: "my cat is called Pixel"; you: "xxx`) || !strings.HasSuffix(got, `x…"`) ||
		len([]rune(got)) > 2*maxMemorySideRunes+40 {
		t.Errorf("memory %q", got)
	}
}
