//go:build integration

package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent/llmconfig"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/ent/userpersonalityconfig"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/store"
)

func TestConfig(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedKerach(t, w)
	ctx := context.Background()
	cases := []struct {
		name  string
		user  string
		sub   string
		opts  map[string]string
		want  string
		check func() bool
	}{
		{"own model and params", alice, "set", map[string]string{"model": "deepseek/deepseek-r1", "params": `{"temperature":1.2}`},
			"Saved", func() bool {
				c := w.DB.UserPersonalityConfig.Query().Where(userpersonalityconfig.HasUserWith(user.DiscordID(alice))).OnlyX(ctx)
				return *c.Model == "deepseek/deepseek-r1" && c.AdvancedParameters["temperature"] == 1.2
			}},
		{"out of range is refused with the field and range", alice, "set", map[string]string{"params": `{"temperature":3}`},
			"temperature: 3 is out of range, allowed 0 to 2", func() bool {
				c := w.DB.UserPersonalityConfig.Query().Where(userpersonalityconfig.HasUserWith(user.DiscordID(alice))).OnlyX(ctx)
				return c.AdvancedParameters["temperature"] == 1.2 // unchanged
			}},
		{"unknown key refused", alice, "set", map[string]string{"params": `{"temprature":1}`}, `unknown field "temprature"`, nil},
		{"a model id must look like one", alice, "set", map[string]string{"model": "gpt4"}, "is not an OpenRouter model id", nil},
		{"view shows both", alice, "view", nil, "deepseek/deepseek-r1", nil},
		{"reset drops them", alice, "reset", nil, "gone", func() bool {
			return w.DB.UserPersonalityConfig.Query().CountX(ctx) == 0
		}},
		{"the personality's own settings: not for others", bob, "personality", map[string]string{"model": "x/y"}, "only a superuser can change its settings", func() bool {
			return w.DB.LLMConfig.Query().Where(llmconfig.Model("x/y")).CountX(ctx) == 0
		}},
		{"unknown personality", alice, "view", map[string]string{"personality": "nobody"}, "No personality is called “nobody”", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := []*discordgo.ApplicationCommandInteractionDataOption{str("personality", "kerach")}
			for k, v := range tc.opts {
				if k == "personality" {
					opts[0] = str(k, v)
					continue
				}
				opts = append(opts, str(k, v))
			}
			ic := w.slash(tc.user, "config", tc.sub, opts...)
			if text := w.ephemeralText(t, ic); !strings.Contains(text, tc.want) {
				t.Errorf("told %q, want it to contain %q", text, tc.want)
			}
			if tc.check != nil && !tc.check() {
				t.Error("database not as expected")
			}
		})
	}
}

func TestConfigPersonalityBySuperuser(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedKerach(t, w)
	ctx := context.Background()
	w.DB.User.Create().SetDiscordID(alice).SetIsSuperuser(true).ExecX(ctx)
	ic := w.slash(alice, "config", "personality", str("personality", "Kerach"), str("model", "openrouter/free"), str("params", `{"top_p":0.9}`))
	if text := w.ephemeralText(t, ic); !strings.Contains(text, "Saved") {
		t.Fatalf("told %q", text)
	}
	c := w.DB.LLMConfig.Query().OnlyX(ctx)
	if c.Model != "openrouter/free" || c.AdvancedParameters["top_p"] != 0.9 {
		t.Fatalf("llm config %+v", c)
	}
}

// streamingOf reads personalities.streaming the way the reply path does:
// store.Resolve, as the ResolvePersonality activity calls it, for alice.
func streamingOf(t *testing.T, w *world, ref string) bool {
	t.Helper()
	ctx := context.Background()
	st := store.New(w.DB)
	sp, err := st.Speaker(ctx, alice, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Resolve(ctx, sp, ref)
	if err != nil {
		t.Fatal(err)
	}
	return m.Personality.Streaming
}

// Streaming is on by default, shown by /config view and /personality view,
// changed by /config personality streaming for its owner only, and read
// back as the reply path reads the personality.
func TestConfigStreaming(t *testing.T) {
	w := lilithWorld(t)
	ctx := context.Background()
	lilith := func(opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
		return append([]*discordgo.ApplicationCommandInteractionDataOption{str("personality", "lilith")}, opts...)
	}
	config := func(user, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) string {
		return w.ephemeralText(t, w.slash(user, "config", sub, lilith(opts...)...))
	}

	if !streamingOf(t, w, "lilith") {
		t.Fatal("a new personality does not stream; want streaming on by default")
	}
	mustContain(t, config(alice, "view"), "It posts its replies as they are written (streaming on).")
	mustContain(t, w.told(t, alice, "view", str("name", "lilith")), "Streaming: yes")

	mustContain(t, config(bob, "personality", boolOpt("streaming", false)), "Only the owner of Lilith or a superuser can change its settings")
	if !streamingOf(t, w, "lilith") {
		t.Fatal("bob, who does not own Lilith, turned her streaming off")
	}

	mustContain(t, config(alice, "personality", boolOpt("streaming", false)), "Saved: Lilith posts each reply whole once it is written (streaming off).")
	if streamingOf(t, w, "lilith") {
		t.Fatal("streaming still on after /config personality streaming:false")
	}
	mustContain(t, config(alice, "view"), "It posts each reply whole once it is written (streaming off).")
	mustContain(t, w.told(t, alice, "view", str("name", "lilith")), "Streaming: no")
	if streamingOf(t, w, "kerach") != true {
		t.Error("turning Lilith's streaming off changed Kerach's")
	}

	// With a model in the same command both are saved; the model check
	// still runs before anything is.
	mustContain(t, config(alice, "personality", str("model", "gpt4"), boolOpt("streaming", true)), "is not an OpenRouter model id")
	if streamingOf(t, w, "lilith") {
		t.Fatal("a refused /config personality saved its streaming option")
	}
	mustContain(t, config(alice, "personality", str("model", "deepseek/deepseek-r1"), boolOpt("streaming", true)), "Saved Lilith's own settings")
	if !streamingOf(t, w, "lilith") {
		t.Fatal("streaming still off after /config personality streaming:true")
	}
	if c := w.DB.LLMConfig.Query().Where(llmconfig.Model("deepseek/deepseek-r1")).CountX(ctx); c != 1 {
		t.Errorf("%d llm configs with the new model, want Lilith's", c)
	}
	mustContain(t, config(alice, "personality"), "Give a model, params or streaming")
}
