package devchat

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// Quotes group a value with spaces and are removed; quotes inside a value,
// as JSON has them, arrive as typed (/help config's own example).
func TestSplitArgs(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
		ok   bool
	}{
		{`personality alias add name:demo alias:"Demo Two"`, []string{"personality", "alias", "add", "name:demo", "alias:Demo Two"}, true},
		{`imagine prompt:“a red fox” personality:demo`, []string{"imagine", "prompt:a red fox", "personality:demo"}, true},
		{`config set personality:demo params:{"temperature":0.8,"reasoning":{"effort":"low"}}`,
			[]string{"config", "set", "personality:demo", `params:{"temperature":0.8,"reasoning":{"effort":"low"}}`}, true},
		{`config set params:{"stop": ["a b"], "x": "y"}`, []string{"config", "set", `params:{"stop":`, `["a`, `b"],`, `"x":`, `"y"}`}, true},
		{`say "that's it" now`, []string{"say", "that's it", "now"}, true},
		{`alias add alias:"Demo Two`, nil, false},
	} {
		got, ok := splitArgs(tc.line)
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitArgs(%s) = %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

// The option parser joins the words of a text value back, so JSON with
// spaces reaches the bot as typed too.
func TestParseCommandKeepsJSON(t *testing.T) {
	def := &discordgo.ApplicationCommand{Name: "config", Options: []*discordgo.ApplicationCommandOption{{
		Type: discordgo.ApplicationCommandOptionSubCommand, Name: "set", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "personality", Required: true},
			{Type: discordgo.ApplicationCommandOptionString, Name: "params"},
		},
	}}}
	for _, params := range []string{`{"temperature":0.7}`, `{"temperature": 0.7, "stop": ["a b"]}`} {
		args, ok := splitArgs("set personality:demo params:" + params)
		if !ok {
			t.Fatalf("splitArgs refused %s", params)
		}
		opts, err := parseCommand(def, args)
		if err != nil {
			t.Fatal(err)
		}
		if got := opts[0].Options[1].Value; got != params {
			t.Errorf("params arrived as %q, want %q", got, params)
		}
	}
}

// A line that would post a key in the channel is recognised by shape.
func TestLooksLikeKey(t *testing.T) {
	for text, want := range map[string]bool{
		"sk-or-v1-0123456789abcdef": true,
		"here: sk-or-v1-c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffee": true,
		"sk_3f2a9c1b7d4e8f6a0b5c2d9e1f7a3b8c4d6e0f2a9b1c":                                   true, // ElevenLabs
		"3f2a9c1b7d4e8f6a0b5c2d9e1f7a3b8c":                                                  true, // ElevenLabs, legacy
		"@demo hello":                                                                       false,
		"@demo what is state-of-the-art-2024?":                                              false,
		"<@100000000000000001> see 900000000000000001":                                      false,
		"the quick brown fox jumps over the lazy dog":                                       false,
	} {
		if got := looksLikeKey(text); got != want {
			t.Errorf("looksLikeKey(%q) = %v, want %v", text, got, want)
		}
	}
}

// The refusal of a key-shaped message says where it would have gone: no
// channel audience in a DM.
func TestKeyNotPostedSaysWhere(t *testing.T) {
	if got := keyNotPosted(false); !strings.Contains(got, "everyone in the channel would see it") {
		t.Errorf("in a channel: %q", got)
	}
	if got := keyNotPosted(true); strings.Contains(got, "channel") || !strings.Contains(got, "in this DM") || !strings.Contains(got, "/wallet set") {
		t.Errorf("in the DM: %q", got)
	}
}

// /channel NAME moves to a channel of its own, the same one each time (a
// restarted `tzurot dev` finds its history); "general" and "" are #general.
func TestChannelNamed(t *testing.T) {
	for _, in := range []string{"", "general", "#General"} {
		if name, id := channelNamed(in); name != ChatChannel || id != ChatChannelID {
			t.Errorf("channelNamed(%q) = %s %s, want %s %s", in, name, id, ChatChannel, ChatChannelID)
		}
	}
	name, id := channelNamed("#Random")
	if name != "#random" || id == ChatChannelID || !isDigits(id) || len(id) != len(ChatChannelID) {
		t.Errorf("channelNamed(#Random) = %s %s, want #random with an id of its own", name, id)
	}
	if _, again := channelNamed("random"); again != id {
		t.Errorf("random's id changed: %s then %s", id, again)
	}
	if _, other := channelNamed("games"); other == id {
		t.Error("#games and #random share an id")
	}
	opt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel"}
	if v, err := optionValue(opt, "#random"); err != nil || v != id {
		t.Errorf("channel option #random = %v, %v; want %s", v, err, id)
	}
}
