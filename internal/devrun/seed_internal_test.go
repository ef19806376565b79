//go:build integration

package devrun

import (
	"context"
	"log/slog"
	"testing"

	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/testdb"
)

// The dev database gets Demo (with images) and Voice (with a voice), once:
// a second start adds nothing and keeps what a developer changed.
func TestSeedDemo(t *testing.T) {
	url := testdb.URL(t)
	db, _ := testdb.ClientFor(t, url)
	ctx := context.Background()
	cfg := config.Config{DatabaseURL: redact.Secret(url)}
	log := slog.New(slog.DiscardHandler)
	if err := seedDemo(ctx, cfg, log); err != nil {
		t.Fatal(err)
	}
	demo := db.Personality.Query().Where(personality.Name("tzurot-demo")).WithImageConfig().WithAliases().OnlyX(ctx)
	if demo.Edges.ImageConfig == nil || !demo.Edges.ImageConfig.Enabled || len(demo.Edges.Aliases) != 1 {
		t.Errorf("demo %+v: want an enabled image config and its alias", demo.Edges)
	}
	voice := db.Personality.Query().Where(personality.Name("tzurot-voice")).WithVoiceConfig().OnlyX(ctx)
	if !voice.VoiceEnabled || voice.Edges.VoiceConfig == nil || voice.Edges.VoiceConfig.Frequency != 1 {
		t.Errorf("voice %+v: want a voice speaking every reply", voice.Edges)
	}
	db.ImageConfig.UpdateOneID(demo.Edges.ImageConfig.ID).SetEnabled(false).ExecX(ctx)
	if err := seedDemo(ctx, cfg, log); err != nil {
		t.Fatal(err)
	}
	if n := db.Personality.Query().CountX(ctx); n != 2 {
		t.Errorf("%d personalities after a second start, want 2", n)
	}
	if db.ImageConfig.Query().OnlyX(ctx).Enabled {
		t.Error("the second start undid the developer's change")
	}
}
