//go:build integration

package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/llmconfig"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/ent/personalityalias"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/itest"
)

const (
	carol = "100000000000000003"
	dave  = "100000000000000004"
)

// told runs /personality sub ("create", or a group and its subcommand:
// "alias add") and returns what the user was told.
func (w *world) told(t *testing.T, userID, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
	t.Helper()
	return w.ephemeralText(t, w.slash(userID, "personality", sub, opts...))
}

func boolOpt(name string, v bool) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionBoolean, Value: v}
}

func mustContain(t *testing.T, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("told %q, want it to contain %q", got, want)
	}
}

// lilithWorld is a stack with kerach seeded and alice's Lilith made
// through /personality create.
func lilithWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, itest.Options{})
	seedKerach(t, w)
	mustContain(t, w.told(t, alice, "create", str("name", "lilith"), str("display_name", "Lilith")), "Created")
	return w
}

func TestPersonalityCreate(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedKerach(t, w)
	ctx := context.Background()

	mustContain(t, w.told(t, alice, "create", str("name", "lilith"), str("display_name", "Lilith"),
		str("system_prompt", "You are Lilith."), str("error_message", "*hisses*")), "Created Lilith (`lilith`)")
	p := w.DB.Personality.Query().Where(personality.Name("lilith")).WithOwner().WithLlmConfig().OnlyX(ctx)
	switch {
	case p.Edges.Owner == nil || p.Edges.Owner.DiscordID != alice:
		t.Errorf("owner %+v, want alice", p.Edges.Owner)
	case p.Edges.LlmConfig == nil || p.Edges.LlmConfig.Model != "openrouter/free":
		t.Errorf("llm config %+v, want the free model", p.Edges.LlmConfig)
	case !p.IsPublic || *p.DisplayName != "Lilith" || *p.SystemPrompt != "You are Lilith." || *p.ErrorMessage != "*hisses*":
		t.Errorf("personality %+v", p)
	}

	cases := []struct {
		name string
		opts []*discordgo.ApplicationCommandInteractionDataOption
		want string
	}{
		{"a chosen model", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("display_name", "Sable"), str("model", "anthropic/claude-sonnet-4"),
		}, "answering with `anthropic/claude-sonnet-4`"},
		{"a taken name", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "lilith"), str("display_name", "Another"),
		}, "The name “lilith” is already taken by lilith; choose another."},
		{"a name that is someone's alias", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "kerach"), str("display_name", "Kerach"),
		}, "already taken by cold-kerach"},
		{"upper case is not a slug", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "Lilith"), str("display_name", "L"),
		}, "“Lilith” cannot be a name: use 2–64 lower-case letters, digits and dashes"},
		{"too short", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "l"), str("display_name", "L"),
		}, "cannot be a name"},
		{"not a model id", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "gpt"), str("display_name", "G"), str("model", "gpt4"),
		}, "is not an OpenRouter model id"},
		{"an http avatar", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "pic"), str("display_name", "P"), str("avatar_url", "http://example.com/p.png"),
		}, "is not an https:// link"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustContain(t, w.told(t, bob, "create", tc.opts...), tc.want)
		})
	}
	if n := w.DB.Personality.Query().CountX(ctx); n != 3 { // cold-kerach, lilith, sable
		t.Errorf("%d personalities, want 3", n)
	}
	if n := w.DB.LLMConfig.Query().Where(llmconfig.Model("anthropic/claude-sonnet-4")).CountX(ctx); n != 2 {
		t.Errorf("%d configs on claude, want kerach's and sable's", n)
	}
}

func TestPersonalityEdit(t *testing.T) {
	w := lilithWorld(t)
	ctx := context.Background()
	w.DB.User.Create().SetDiscordID(carol).SetIsSuperuser(true).ExecX(ctx)
	w.Bot.Config.BotOwnerDiscordID = dave

	lilith := func() *ent.Personality { return w.DB.Personality.Query().Where(personality.Name("lilith")).OnlyX(ctx) }
	kerach := func() *ent.Personality {
		return w.DB.Personality.Query().Where(personality.Name("cold-kerach")).OnlyX(ctx)
	}
	cases := []struct {
		name  string
		user  string
		opts  []*discordgo.ApplicationCommandInteractionDataOption
		want  string
		check func() bool
	}{
		{"others are refused", bob, []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "lilith"), str("display_name", "Bob's"),
		}, "Only the owner of Lilith or a superuser can edit it.", func() bool { return *lilith().DisplayName == "Lilith" }},
		{"the owner may", alice, []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "Lilith"), str("display_name", "Lilith Sable"), str("avatar_url", "https://example.com/l.png"), boolOpt("public", false),
		}, "Saved Lilith Sable (`lilith`)", func() bool {
			p := lilith()
			return *p.DisplayName == "Lilith Sable" && *p.AvatarURL == "https://example.com/l.png" && !p.IsPublic
		}},
		{"nothing to change", alice, []*discordgo.ApplicationCommandInteractionDataOption{str("name", "lilith")},
			"Nothing to change", nil},
		{"private now: others cannot even find it", bob, []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "lilith"), str("error_message", "x"),
		}, "No personality is called “lilith”.", nil},
		{"a superuser may edit anyone's", carol, []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "lilith"), boolOpt("public", true),
		}, "Saved", func() bool { return lilith().IsPublic }},
		{"a system personality: not its users", alice, []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "kerach"), str("error_message", "mine now"),
		}, "Kerach is a system personality; only a superuser can edit it.", func() bool { return *kerach().ErrorMessage == "*static crackles*" }},
		{"a system personality: the bot's operator may", dave, []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "cold-kerach"), str("system_prompt", "You are cold."),
		}, "Saved Kerach", func() bool { return *kerach().SystemPrompt == "You are cold." }},
		{"an unknown name", alice, []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "nobody"), str("display_name", "X"),
		}, "No personality is called “nobody”.", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustContain(t, w.told(t, tc.user, "edit", tc.opts...), tc.want)
			if tc.check != nil && !tc.check() {
				t.Error("database not as expected")
			}
		})
	}
}

func TestPersonalityAliases(t *testing.T) {
	w := lilithWorld(t)
	ctx := context.Background()
	mustContain(t, w.told(t, bob, "create", str("name", "sable"), str("display_name", "Sable")), "Created")

	aliasesOf := func(name string) []string {
		var out []string
		for _, a := range w.DB.PersonalityAlias.Query().Where(personalityalias.HasPersonalityWith(personality.Name(name))).
			Order(ent.Asc(personalityalias.FieldAlias)).AllX(ctx) {
			out = append(out, a.Alias)
		}
		return out
	}
	cases := []struct {
		name, user, sub, target, alias, want string
	}{
		{"the owner adds one, keeping its case", alice, "alias add", "lilith", "Lili", "Lilith now also answers to @Lili."},
		{"a case variant for another personality names the holder", bob, "alias add", "sable", "LILI", "The alias “LILI” is already taken by lilith."},
		{"the seeded alias names its holder", bob, "alias add", "sable", "kerach", "The alias “kerach” is already taken by cold-kerach."},
		{"the same alias again", alice, "alias add", "lilith", "lili", "Lilith already answers to “Lili”."},
		{"another personality's name, which is public, names it", alice, "alias add", "lilith", "Sable", "The alias “Sable” is already taken by sable."},
		{"not the owner", bob, "alias add", "lilith", "Lil", "Only the owner of Lilith or a superuser can change its aliases."},
		{"found by its alias, removed in any case", alice, "alias remove", "LILI", "lILi", "Lilith no longer answers to @lILi."},
		{"removing one it does not have", alice, "alias remove", "lilith", "Lili", "Lilith has no alias “Lili”"},
		{"now free for another", bob, "alias add", "sable", "LILI", "Sable now also answers to @LILI."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustContain(t, w.told(t, tc.user, tc.sub, str("name", tc.target), str("alias", tc.alias)), tc.want)
		})
	}
	if got := aliasesOf("lilith"); len(got) != 0 {
		t.Errorf("lilith's aliases %v, want none", got)
	}
	if got := aliasesOf("sable"); len(got) != 1 || got[0] != "LILI" {
		t.Errorf("sable's aliases %v, want [LILI]", got)
	}
}

func TestPersonalityView(t *testing.T) {
	w := lilithWorld(t)
	ctx := context.Background()
	mustContain(t, w.told(t, alice, "alias add", str("name", "lilith"), str("alias", "Lili")), "answers to")
	w.DB.Personality.Update().Where(personality.Name("lilith")).SetBirthMonth(3).SetBirthDay(14).ExecX(ctx)
	mustContain(t, w.told(t, alice, "edit", str("name", "lilith"), boolOpt("public", false)), "Saved")

	cases := []struct {
		name, user, ref string
		want            []string
	}{
		{"the owner's view", alice, "lili", []string{
			"**Lilith** (`lilith`)", "Aliases: Lili", "Model: `openrouter/free`", "Owner: <@" + alice + ">", "Public: no", "Birthday: 14 March",
		}},
		{"a system personality", bob, "Kerach", []string{
			"**Kerach** (`cold-kerach`)", "Aliases: Kerach", "Model: `anthropic/claude-sonnet-4`", "Owner: system", "Public: yes",
		}},
		{"someone else's private one", bob, "lilith", []string{"No personality is called “lilith”."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := w.told(t, tc.user, "view", str("name", tc.ref))
			for _, want := range tc.want {
				mustContain(t, got, want)
			}
		})
	}
	if got := w.told(t, bob, "view", str("name", "kerach")); strings.Contains(got, "Birthday") {
		t.Errorf("a personality without a birthday shows one: %q", got)
	}
}

func TestPersonalityDelete(t *testing.T) {
	w := newWorld(t, itest.Options{})
	ctx := context.Background()
	mustContain(t, w.told(t, alice, "create", str("name", "lilith"), str("display_name", "Lilith")), "Created")
	mustContain(t, w.told(t, alice, "alias add", str("name", "lilith"), str("alias", "Lili")), "answers to")

	mustContain(t, w.told(t, bob, "delete", str("name", "lilith")), "Only the owner of Lilith or a superuser can delete it.")
	if !w.DB.Personality.Query().Where(personality.Name("lilith")).ExistX(ctx) {
		t.Fatal("deleted by someone else")
	}
	mustContain(t, w.told(t, alice, "delete", str("name", "Lili")), "Lilith (`lilith`) is deleted")
	for what, n := range map[string]int{
		"personalities": w.DB.Personality.Query().CountX(ctx),
		"llm configs":   w.DB.LLMConfig.Query().CountX(ctx),
		"aliases":       w.DB.PersonalityAlias.Query().CountX(ctx),
	} {
		if n != 0 {
			t.Errorf("%d %s left", n, what)
		}
	}
	if !w.DB.User.Query().Where(user.DiscordID(alice)).ExistX(ctx) {
		t.Error("the owner's user row went with the personality")
	}
}

func TestPersonalityAutocomplete(t *testing.T) {
	w := lilithWorld(t)
	mustContain(t, w.told(t, alice, "create", str("name", "secret-lily"), str("display_name", "Lily")), "Created")
	mustContain(t, w.told(t, alice, "edit", str("name", "secret-lily"), boolOpt("public", false)), "Saved")
	mustContain(t, w.told(t, alice, "alias add", str("name", "lilith"), str("alias", "Night Queen")), "answers to")

	cases := []struct {
		name string
		user string
		sub  string
		opts []*discordgo.ApplicationCommandInteractionDataOption
		want map[string]string
	}{
		{"the owner sees the private one", alice, "view", []*discordgo.ApplicationCommandInteractionDataOption{focused("name", "li")},
			map[string]string{"lilith (Lilith)": "lilith", "secret-lily (Lily)": "secret-lily"}},
		{"others do not", bob, "edit", []*discordgo.ApplicationCommandInteractionDataOption{focused("name", "li")},
			map[string]string{"lilith (Lilith)": "lilith"}},
		{"aliases match, any case", bob, "view", []*discordgo.ApplicationCommandInteractionDataOption{focused("name", "QUEEN")},
			map[string]string{"Night Queen (alias of lilith)": "lilith"}},
		{"nothing typed lists what one can see", bob, "delete", []*discordgo.ApplicationCommandInteractionDataOption{focused("name", "")},
			map[string]string{"cold-kerach (Kerach)": "cold-kerach", "lilith (Lilith)": "lilith"}},
		{"alias remove offers the personality's aliases", alice, "alias remove", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "lilith"), focused("alias", "n"),
		}, map[string]string{"Night Queen": "Night Queen"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := w.personalityChoices(t, tc.user, tc.sub, tc.opts...)
			if len(got) != len(tc.want) {
				t.Fatalf("choices %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("choices %v, want %v", got, tc.want)
				}
			}
		})
	}

	// Past many visible personalities whose names sort first, what is typed
	// still finds its personality (the filter is in SQL, before the limit),
	// and with nothing typed one's own come first.
	ctx := context.Background()
	var many []*ent.PersonalityCreate
	for i := range 600 {
		many = append(many, w.DB.Personality.Create().SetName(fmt.Sprintf("aaa-%03d", i)).SetDisplayName(fmt.Sprintf("Aaa %d", i)).SetIsPublic(true))
	}
	w.DB.Personality.CreateBulk(many...).ExecX(ctx)
	for _, tc := range []struct {
		user, typed string
		want        []string // among the choices
		n           int      // how many choices
	}{
		{alice, "lil", []string{"lilith (Lilith)", "secret-lily (Lily)"}, 2},
		{alice, "LILY", []string{"secret-lily (Lily)"}, 1},
		{bob, "lil", []string{"lilith (Lilith)"}, 1},
		{bob, "queen", []string{"Night Queen (alias of lilith)"}, 1},
		{alice, "", []string{"lilith (Lilith)", "secret-lily (Lily)"}, 25},
		{bob, "aaa-59", []string{"aaa-590 (Aaa 590)", "aaa-599 (Aaa 599)"}, 10},
		{bob, "aaa 7", []string{"aaa-007 (Aaa 7)", "aaa-079 (Aaa 79)"}, 11}, // by display name
		{bob, "%", nil, 0}, // LIKE's wildcards are text
		{bob, "_", nil, 0},
	} {
		got := w.personalityChoices(t, tc.user, "view", focused("name", tc.typed))
		if len(got) != tc.n {
			t.Errorf("%s typing %q: %d choices %v, want %d", tc.user, tc.typed, len(got), got, tc.n)
		}
		for _, c := range tc.want {
			if _, ok := got[c]; !ok {
				t.Errorf("%s typing %q: no choice %q among %v", tc.user, tc.typed, c, got)
			}
		}
	}
}

// An answer longer than Discord's 2000 characters arrives whole, in
// several private messages of at most 2000 characters each, none cut
// inside an alias.
func TestLongAnswersAreSplitNotCut(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedKerach(t, w)
	ctx := context.Background()
	p := w.DB.Personality.Query().Where(personality.Name("cold-kerach")).OnlyX(ctx)
	var aliases []string
	for i := range 40 {
		a := fmt.Sprintf("kerach-the-cold-and-very-long-winded-alias-number-%02d", i)
		aliases = append(aliases, a)
		w.DB.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias(a).ExecX(ctx)
	}
	ic := w.slash(bob, "personality", "view", str("name", "kerach"))
	got := w.ephemeralText(t, ic)
	for _, a := range aliases {
		mustContain(t, got, a)
	}
	parts := len(w.Discord.FollowUps(ic.Token))
	for _, r := range w.responses(ic) {
		if data, _ := r["data"].(map[string]any); data != nil {
			if c, _ := data["content"].(string); c != "" {
				parts++
				if n := utf8.RuneCountInString(c); n > 2000 {
					t.Errorf("a response of %d characters", n)
				}
			}
		}
	}
	if parts < 2 {
		t.Errorf("%d messages, want the answer in several", parts)
	}
}
