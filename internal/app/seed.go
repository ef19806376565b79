package app

import (
	"context"
	"database/sql"
	"log/slog"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
)

// seedDemo gives an empty dev database one personality to talk to, so the
// first `make dev` has something to show.
func seedDemo(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := sql.Open("postgres", cfg.DatabaseURL.Reveal())
	if err != nil {
		return err
	}
	defer db.Close()
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, db)))
	n, err := client.Personality.Query().Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	p, err := tx.Personality.Create().
		SetName("tzurot-demo").SetDisplayName("Tzurot Demo").
		SetSystemPrompt("You are a friendly demo personality of a Discord bot.").
		SetErrorMessage("*the demo static crackles* Something went wrong, try again.").
		Save(ctx)
	if err != nil {
		return err
	}
	if err := tx.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").Exec(ctx); err != nil {
		return err
	}
	if err := tx.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias("Demo").Exec(ctx); err != nil {
		return err
	}
	log.Info("seeded a demo personality for the empty dev database", "name", "tzurot-demo", "alias", "Demo")
	return tx.Commit()
}
