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
