package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/llmparams"
	"github.com/tzurot/tzurot/internal/store"
)

// configCommand is /config: a user's own overrides of a personality's model
// and advanced parameters, and — for its owner or a superuser — the
// personality's own settings, among them whether its replies stream
// (personalities.streaming). Parameters are an llmparams JSON document,
// validated with its one-line errors before anything is saved.
func (b *Bot) configCommand() *command {
	pers := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "personality",
		Description: "Name or alias", Required: true, Autocomplete: true}
	model := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "model",
		Description: "OpenRouter model id, e.g. anthropic/claude-sonnet-4", MaxLength: 100}
	params := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "params",
		Description: `Advanced parameters as JSON, e.g. {"temperature":0.8,"reasoning":{"effort":"low"}}`, MaxLength: 2000}
	streaming := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "streaming",
		Description: "Post its replies as they are written (default true); false posts each reply whole"}
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "config", Description: "Model and parameters a personality uses to answer you",
			Options: []*discordgo.ApplicationCommandOption{
				subcommand("view", "Show the model and parameters used for your replies", pers),
				subcommand("set", "Use your own model or parameters with this personality (replies to you only)", pers, model, params),
				subcommand("reset", "Drop your own settings for this personality", pers),
				subcommand("personality", "Change the personality's own settings (owner or superuser)", pers, model, params, streaming),
			},
		},
		run:          b.config_,
		autocomplete: b.personalityCommandAutocomplete,
	}
}

func (b *Bot) config_(ctx context.Context, in *Interaction) error {
	acc, p, err := b.personalityOption(ctx, in)
	if err != nil {
		return err
	}
	switch in.Subcommand() {
	case "view":
		return b.configView(ctx, in, p)
	case "set":
		return b.configSet(ctx, in, p)
	case "reset":
		n, err := b.store.ResetUserConfig(ctx, in.UserID, p.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return in.Reply(fmt.Sprintf("You have no settings of your own for %s.", personaName(p)))
		}
		return in.Reply(fmt.Sprintf("Your own settings for %s are gone; it answers you with its defaults again.", personaName(p)))
	case "personality":
		if err := acc.mayManage(p, "change its settings (use /config set for your own)"); err != nil {
			return err
		}
		return b.configPersonality(ctx, in, p)
	}
	return UserError("Unknown /config subcommand.")
}

// parseParams validates a params option; "" means not given.
func parseParams(raw string) (map[string]any, bool, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, false, nil
	}
	p, err := llmparams.Parse([]byte(raw))
	if err != nil {
		lines := strings.Split(err.Error(), "\n")
		return nil, true, UserError("Those parameters were not saved: %s", strings.Join(lines, "; "))
	}
	return paramsMap(p), true, nil
}

func paramsMap(p llmparams.Params) map[string]any {
	b, _ := json.Marshal(p)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// settingsOf reads the model and params options of /config set and /config
// personality; given is false when neither was given. A model that is not an
// OpenRouter model id or params that are not valid are the user's error.
func settingsOf(in *Interaction) (s store.Settings, given bool, err error) {
	model := strings.TrimSpace(in.String("model"))
	params, hasParams, err := parseParams(in.String("params"))
	if err != nil {
		return store.Settings{}, false, err
	}
	if model != "" && !validModelID(model) {
		return store.Settings{}, false, UserError("“%s” is not an OpenRouter model id; they look like provider/model, e.g. anthropic/claude-sonnet-4.", model)
	}
	return store.Settings{Model: model, Params: params}, model != "" || hasParams, nil
}

func (b *Bot) configSet(ctx context.Context, in *Interaction, p *ent.Personality) error {
	settings, given, err := settingsOf(in)
	if err != nil {
		return err
	}
	if !given {
		return UserError("Give a model, params, or both, e.g. /config set personality:%s model:anthropic/claude-sonnet-4", p.Name)
	}
	uid, err := b.upsertInvoker(ctx, in)
	if err != nil {
		return err
	}
	if err := b.store.SetUserConfig(ctx, uid, p.ID, settings); err != nil {
		return err
	}
	return in.Reply(fmt.Sprintf("Saved: %s now answers you with your own settings. /config view shows them; /config reset drops them.", personaName(p)))
}

// configPersonality is /config personality: the personality's model and
// params (llm_configs) and whether its replies stream (personalities), each
// changed only when given. Everything is checked before anything is saved.
func (b *Bot) configPersonality(ctx context.Context, in *Interaction, p *ent.Personality) error {
	settings, given, err := settingsOf(in)
	if err != nil {
		return err
	}
	streaming, hasStreaming, err := boolOption(in, "streaming")
	if err != nil {
		return err
	}
	if !given && !hasStreaming {
		return UserError("Give a model, params or streaming (or several).")
	}
	if given {
		exists, err := b.store.HasPersonalityConfig(ctx, p.ID)
		if err != nil {
			return err
		}
		if !exists && settings.Model == "" {
			return UserError("%s has no model yet: give one with model:", personaName(p))
		}
		if err := b.store.SetPersonalityConfig(ctx, p.ID, exists, settings); err != nil {
			return err
		}
	}
	if hasStreaming {
		if _, err := b.store.UpdatePersonality(ctx, p.ID, store.PersonalityChange{Streaming: &streaming}); err != nil {
			return err
		}
	}
	msg := fmt.Sprintf("Saved %s's own settings; everyone's replies use them (unless they set their own).", personaName(p))
	if hasStreaming && !given {
		msg = fmt.Sprintf("Saved: %s %s.", personaName(p), streamingWords(streaming))
	}
	return in.Reply(msg)
}

// streamingWords says what personalities.streaming means for the replies.
func streamingWords(on bool) string {
	if on {
		return "posts its replies as they are written (streaming on)"
	}
	return "posts each reply whole once it is written (streaming off)"
}

// boolOption reads a boolean option: given is false when it is absent; a
// value that is not a boolean is the user's error.
func boolOption(in *Interaction, name string) (value, given bool, err error) {
	o, ok := in.Options()[name]
	if !ok || o == nil {
		return false, false, nil
	}
	v, isBool := o.Value.(bool)
	if !isBool {
		return false, false, UserError("%s must be true or false.", name)
	}
	return v, true, nil
}

func (b *Bot) configView(ctx context.Context, in *Interaction, p *ent.Personality) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "**%s**\n", personaName(p))
	cfg, err := b.store.PersonalityConfig(ctx, p.ID)
	switch {
	case err != nil:
		return err
	case cfg == nil:
		sb.WriteString("Its own settings: none (no model yet).\n")
	default:
		fmt.Fprintf(&sb, "Its model: `%s`; its parameters: `%s`\n", cfg.Model, compactJSON(cfg.AdvancedParameters))
	}
	fmt.Fprintf(&sb, "It %s.\n", streamingWords(p.Streaming))
	own, err := b.store.UserConfig(ctx, in.UserID, p.ID)
	switch {
	case err != nil:
		return err
	case own == nil:
		sb.WriteString("Your own settings: none.")
	default:
		m := "its model"
		if own.Model != nil {
			m = "`" + *own.Model + "`"
		}
		fmt.Fprintf(&sb, "Your own settings: model %s; parameters `%s` (over its own).", m, compactJSON(own.AdvancedParameters))
	}
	return in.Reply(sb.String())
}

func (b *Bot) upsertInvoker(ctx context.Context, in *Interaction) (uuid.UUID, error) {
	return b.store.UpsertUser(ctx, in.UserID, in.Username)
}

func personaName(p *ent.Personality) string {
	if p.DisplayName != nil && *p.DisplayName != "" {
		return *p.DisplayName
	}
	return p.Name
}

func validModelID(m string) bool {
	if len(m) > 100 || strings.ContainsAny(m, " \t\n") {
		return false
	}
	vendor, name, ok := strings.Cut(m, "/")
	return ok && vendor != "" && name != ""
}

func compactJSON(v map[string]any) string {
	if len(v) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
