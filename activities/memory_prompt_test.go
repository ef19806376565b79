package activities

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
		{Memory: memory.Memory{Content: `alice: "my cat is called Pixel"; Kerach: "A fine name."`, CreatedAt: late}, Score: 0.9},
		{Memory: memory.Memory{Content: "alice: \"I live\nin Leeds\"; Kerach: \"Nice.\"", CreatedAt: late.AddDate(0, -1, 0)}, Score: 0.4},
	}
	out := withMemories(msgs, "alice", "Asia/Tokyo", found)
	want := "You are Kerach.\n\nThings you remember about alice (from earlier conversations; memories, not this conversation):\n" +
		"- (2026-10-03) alice: \"I live in Leeds\"; Kerach: \"Nice.\"\n" +
		"- (2026-11-03) alice: \"my cat is called Pixel\"; Kerach: \"A fine name.\""
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

// The query is two inputs: the new message, then the last n turns, both
// sides, one to a line; with no turns, or no message, only the other.
func TestRecallInputsAreTheMessageAndTheLastTurns(t *testing.T) {
	history := []Turn{{Role: "user", Content: "one"}, {Role: "assistant", Content: "two"}, {Role: "user", Content: "three"}, {Role: "assistant", Content: "four"}}
	for n, want := range map[int][]string{0: {"now"}, 2: {"now", "three\nfour"}, 10: {"now", "one\ntwo\nthree\nfour"}} {
		got, weights := recallInputs(history, n, "now")
		if !reflect.DeepEqual(got, want) || len(weights) != len(got) || weights[0] != QueryMessageWeight {
			t.Errorf("%d turns: %q %v, want %q", n, got, weights, want)
		}
	}
	if got, _ := recallInputs(history, 2, " "); !reflect.DeepEqual(got, []string{"three\nfour"}) {
		t.Errorf("an image alone: %q, want the turns only", got)
	}
	if got, _ := recallInputs(nil, 2, ""); len(got) != 0 {
		t.Errorf("nothing to embed, yet %q", got)
	}
}

// Every text sent to the embeddings endpoint is at most MaxEmbedRunes: a
// 60,000-character message, long turns, a long exchange.
func TestEmbeddedTextsAreBounded(t *testing.T) {
	long := strings.Repeat("ab ", 20000)
	var history []Turn
	for range 10 {
		history = append(history, Turn{Role: "user", Content: long})
	}
	inputs, _ := recallInputs(history, 10, long)
	for i, in := range inputs {
		if n := len([]rune(in)); n > MaxEmbedRunes {
			t.Errorf("input %d is %d runes, want at most %d", i, n, MaxEmbedRunes)
		}
	}
	if n := len([]rune(memoryContent(strings.Repeat("n", 5000), strings.Repeat("p", 5000), long, long))); n > MaxEmbedRunes {
		t.Errorf("a memory is %d runes, want at most %d", n, MaxEmbedRunes)
	}
}

// The query vector leans to the message: with the message and the turns
// orthogonal unit vectors of different lengths, the sum is 0.75 and 0.25
// of their directions, whatever their lengths.
func TestRecallQueryWeighsTheMessage(t *testing.T) {
	got := weighted([][]float32{{3, 0}, {0, 10}}, []float64{QueryMessageWeight, 1 - QueryMessageWeight})
	if math.Abs(float64(got[0])-0.75) > 1e-6 || math.Abs(float64(got[1])-0.25) > 1e-6 {
		t.Errorf("weighted %v, want [0.75 0.25]", got)
	}
	if got := weighted([][]float32{{3, 4}}, []float64{1}); !reflect.DeepEqual(got, []float32{3, 4}) {
		t.Errorf("one vector came back as %v", got)
	}
}

// The memories left out are those of the exchanges whose user turn the
// model sees: the turns kept in the prompt, not older ones of the window.
func TestRecallLeavesOutTheExchangesInTheConversation(t *testing.T) {
	p := uuid.MustParse("12345678-90ab-cdef-1234-567890abcdef")
	history := []Turn{
		{Role: "user", Content: "old", MessageID: "1"}, {Role: "assistant", Content: "old reply"},
		{Role: "user", Content: "new", MessageID: "2"}, {Role: "assistant", Content: "new reply"},
	}
	seen := seenTurns(history, 2)
	if len(seen) != 2 || seen[0].MessageID != "2" {
		t.Fatalf("seen %+v, want the last exchange", seen)
	}
	got := seenMemories(seen, p)
	want := []uuid.UUID{MemoryID("2"), MemoryID("2-12345678")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("excluded %v, want %v", got, want)
	}
	if got := seenMemories(seenTurns(history, 4), p); len(got) != 4 || !slices.Contains(got, MemoryID("1")) {
		t.Errorf("the whole window seen, excluded %v", got)
	}
}

// A memory is the exchange on one line, each side cut short and labelled
// with its speaker's name: the user's, else "the user", and the
// personality's — never "you", which reads wrong when recalled.
func TestMemoryContentIsTheExchangeShort(t *testing.T) {
	got := memoryContent("", "Tzurot Demo", "my cat\nis called Pixel", strings.Repeat("x", 1000))
	if !strings.HasPrefix(got, `the user: "my cat is called Pixel"; Tzurot Demo: "xxx`) || !strings.HasSuffix(got, `x…"`) ||
		len([]rune(got)) > 2*maxMemorySideRunes+40 {
		t.Errorf("memory %q", got)
	}
	if got := memoryContent("alice", "Kerach", "hi", "hello"); got != `alice: "hi"; Kerach: "hello"` {
		t.Errorf("memory %q", got)
	}
}
