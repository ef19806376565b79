package activities_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/openrouter"
)

var noon = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var defaultMentionLimits = activities.MentionLimits{Users: 5, Channels: 5, Roles: 5}

// Two people talking to one personality: each earlier user turn carries its
// author, the personality's own turns none, and the current message its
// speaker.
func TestPromptNamesEachSpeaker(t *testing.T) {
	msgs := activities.BuildMessages(activities.PromptInput{
		History: []activities.Turn{
			{Role: "user", Content: "I like cats", Author: "alice", AuthorID: "1"},
			{Role: "assistant", Content: "Cats are fine."},
			{Role: "user", Content: "I prefer dogs", Author: "Bob the Builder", AuthorID: "2"},
			{Role: "assistant", Content: "Noted."},
		},
		Username: "alice", Now: noon, Content: "what does Bob prefer?", Model: "anthropic/claude-sonnet-4",
	})
	want := []openrouter.Message{
		{Role: "user", Content: "alice: I like cats"},
		{Role: "assistant", Content: "Cats are fine."},
		{Role: "user", Content: "Bob the Builder: I prefer dogs"},
		{Role: "assistant", Content: "Noted."},
		{Role: "user", Content: "alice: what does Bob prefer?"},
	}
	assertMessages(t, msgs[1:], want)
	if !strings.Contains(msgs[0].Content, "starts with its speaker's name") {
		t.Errorf("the system prompt does not say how speakers are shown: %q", msgs[0].Content)
	}
}

// OpenAI's models get the speaker in the name field as well (OpenRouter
// passes it on to them, and prepends it to the content of the others), in
// the characters OpenAI accepts.
func TestPromptNameFieldForOpenAIModelsOnly(t *testing.T) {
	in := activities.PromptInput{
		History:  []activities.Turn{{Role: "user", Content: "hi", Author: "Bob the Builder", AuthorID: "2"}},
		Username: "zoë <|x|>", Now: noon, Content: "hello",
	}
	in.Model = "openai/gpt-4o"
	msgs := activities.BuildMessages(in)
	if msgs[1].Name != "Bob_the_Builder" || msgs[2].Name != "zo_x" {
		t.Errorf("names %q, %q; want Bob_the_Builder, zo_x", msgs[1].Name, msgs[2].Name)
	}
	in.Model = "meta-llama/llama-3.3-70b-instruct"
	for _, m := range activities.BuildMessages(in) {
		if m.Name != "" {
			t.Errorf("name %q sent to a model OpenRouter prepends it for", m.Name)
		}
	}
}

// The history is cut to the token budget newest first; the system prompt and
// the current message stay even when they alone are over it.
func TestPromptTokenBudgetKeepsTheNewest(t *testing.T) {
	var history []activities.Turn
	for i := range 10 {
		history = append(history, activities.Turn{Role: "user", Content: strings.Repeat(string(rune('a'+i)), 300), Author: "amy", AuthorID: "1"})
	}
	sys := activities.BuildMessages(activities.PromptInput{Now: noon, Content: "x", Username: "amy"})[0].Content
	fixed := activities.EstimateTokens(sys) + activities.EstimateTokens("amy: x")
	perTurn := activities.EstimateTokens("amy: " + strings.Repeat("a", 300))
	msgs := activities.BuildMessages(activities.PromptInput{
		History: history, Username: "amy", Now: noon, Content: "x", TokenBudget: fixed + 3*perTurn + perTurn/2,
	})
	if len(msgs) != 5 {
		t.Fatalf("%d messages, want system, the 3 newest turns, current", len(msgs))
	}
	for i, c := range []byte{'h', 'i', 'j'} {
		if !strings.HasPrefix(msgs[1+i].Content, "amy: "+string(c)) {
			t.Errorf("message %d is %.10q…, want the turn of %c", 1+i, msgs[1+i].Content, c)
		}
	}
	msgs = activities.BuildMessages(activities.PromptInput{
		History: history, Username: "amy", Now: noon, Content: strings.Repeat("long ", 1000), TokenBudget: 10,
	})
	if len(msgs) != 2 || msgs[0].Role != "system" || !strings.HasPrefix(msgs[1].Content, "amy: long") {
		t.Errorf("over budget alone: %d messages, want the system prompt and the current message", len(msgs))
	}
}

func TestEstimateTokensIsConservative(t *testing.T) {
	cases := []struct {
		s    string
		want int
	}{
		{"", 4}, {"abc", 5}, {"abcd", 6}, {"猫猫猫", 7}, {"🙂", 5},
	}
	for _, tc := range cases {
		if got := activities.EstimateTokens(tc.s); got != tc.want {
			t.Errorf("EstimateTokens(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestReplaceMentions(t *testing.T) {
	names := activities.MentionNames{
		Users:    map[string]string{"1": "alice", "2": "Bob\nBuilder", "3": "carol"},
		Channels: map[string]string{"10": "general", "11": "random"},
		Roles:    map[string]string{"20": "mods", "21": "admins"},
	}
	cases := []struct {
		name, in, want string
		max            activities.MentionLimits
	}{
		{"every kind", "<@1> and <@!2> in <#10>, ping <@&20>", "@alice and @Bob Builder in #general, ping @mods", defaultMentionLimits},
		{"a repeated mention counts once", "<@1> <@1> <@2>", "@alice @alice @Bob Builder", activities.MentionLimits{Users: 2}},
		{"past the limit stays", "<@1> <@2> <@3>", "@alice @Bob Builder <@3>", activities.MentionLimits{Users: 2, Channels: 1, Roles: 1}},
		{"limits are per kind", "<#10> <#11> <@&20> <@&21>", "#general <#11> @mods <@&21>", activities.MentionLimits{Users: 5, Channels: 1, Roles: 1}},
		{"unknown ids stay", "<@9> <#99> <@&999>", "<@9> <#99> <@&999>", defaultMentionLimits},
		{"not a mention", "<@alice> <#> a<b", "<@alice> <#> a<b", defaultMentionLimits},
	}
	for _, tc := range cases {
		if got := activities.ReplaceMentions(tc.in, names, tc.max); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Mentions are named in the current message and in the history, by the
// current message's names and by the authors of the window's turns, within
// the limits in each message.
func TestPromptNamesMentionsEverywhere(t *testing.T) {
	msgs := activities.BuildMessages(activities.PromptInput{
		History: []activities.Turn{
			{Role: "user", Content: "hi <@3>, see <#10>", Author: "bob", AuthorID: "2"},
			{Role: "user", Content: "hello <@2> and <@1>", Author: "carol", AuthorID: "3"},
		},
		Username: "alice", DiscordUserID: "1", Now: noon, Content: "<@2> <@3> <@4> in <#10>",
		Mentions:      activities.MentionNames{Users: map[string]string{"4": "dave"}, Channels: map[string]string{"10": "general"}},
		MentionLimits: activities.MentionLimits{Users: 2, Channels: 1, Roles: 1},
	})
	assertMessages(t, msgs[1:], []openrouter.Message{
		{Role: "user", Content: "bob: hi @carol, see #general"},
		{Role: "user", Content: "carol: hello @bob and @alice"},
		{Role: "user", Content: "alice: @bob @carol <@4> in #general"},
	})
}

func assertMessages(t *testing.T, got, want []openrouter.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d messages %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("message %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
