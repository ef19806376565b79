package devrun

import (
	"context"
	"database/sql"
	"log/slog"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/ent/personalityalias"
	"github.com/tzurot/tzurot/internal/config"
)

// demoVoiceID is ElevenLabs' premade "Rachel", which every account has.
const demoVoiceID = "21m00Tcm4TlvDq8ikWAM"

// seedDemo gives the dev database two personalities to talk to — Demo, and
// Voice, who speaks every reply — each created once, when no personality of
// its name exists, so the first `make dev` has something to show.
func seedDemo(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := sql.Open("postgres", cfg.DatabaseURL.Reveal())
	if err != nil {
		return err
	}
	defer db.Close()
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, db)))
	demos := []struct {
		name, display, alias, prompt string
		voice                        bool
	}{
		{"tzurot-demo", "Tzurot Demo", "Demo", "You are a friendly demo personality of a Discord bot.", false},
		{"tzurot-voice", "Tzurot Voice", "Voice", "You are a friendly demo personality of a Discord bot who answers aloud as well as in text.", true},
	}
	for _, d := range demos {
		if err := seedPersonality(ctx, client, d.name, d.display, d.alias, d.prompt, d.voice); err != nil {
			return err
		}
	}
	if err := seedImages(ctx, client, "tzurot-demo"); err != nil {
		return err
	}
	log.Info("demo personalities are in the dev database", "aliases", "Demo (also makes images: /imagine), Voice (speaks every reply: /wallet set provider:elevenlabs first)")
	return nil
}

// demoImageModel is an OpenRouter model that outputs images.
const demoImageModel = "google/gemini-2.5-flash-image-preview"

// seedImages gives the named personality an enabled image config, once, so
// /imagine works in the dev stack; one it already has is left alone.
func seedImages(ctx context.Context, client *ent.Client, name string) error {
	p, err := client.Personality.Query().Where(personality.NameEqualFold(name)).WithImageConfig().First(ctx)
	if ent.IsNotFound(err) || (err == nil && p.Edges.ImageConfig != nil) {
		return nil
	}
	if err != nil {
		return err
	}
	return client.ImageConfig.Create().SetPersonalityID(p.ID).SetModel(demoImageModel).SetEnabled(true).Exec(ctx)
}

func seedPersonality(ctx context.Context, client *ent.Client, name, display, alias, prompt string, voice bool) error {
	exists, err := client.Personality.Query().Where(personality.NameEqualFold(name)).Exist(ctx)
	if err != nil || exists {
		return err
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	p, err := tx.Personality.Create().
		SetName(name).SetDisplayName(display).SetSystemPrompt(prompt).
		SetErrorMessage("*the demo static crackles* Something went wrong, try again.").
		SetVoiceEnabled(voice).
		Save(ctx)
	if err != nil {
		return err
	}
	if err := tx.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").Exec(ctx); err != nil {
		return err
	}
	taken, err := tx.PersonalityAlias.Query().Where(personalityalias.AliasEqualFold(alias)).Exist(ctx)
	if err != nil {
		return err
	}
	if !taken {
		if err := tx.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias(alias).Exec(ctx); err != nil {
			return err
		}
	}
	if voice {
		if err := tx.VoiceConfig.Create().SetPersonalityID(p.ID).SetVoiceID(demoVoiceID).SetFrequency(1).Exec(ctx); err != nil {
			return err
		}
	}
	return tx.Commit()
}
