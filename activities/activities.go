// Package activities is everything tzurot's workflows do to the world: the
// database through ent, OpenRouter, Discord. Activities is one struct of
// injected dependencies, registered once by the worker; workflows name its
// methods through a nil *Activities.
package activities

import (
	"context"
	"time"

	"database/sql"
	"go.temporal.io/sdk/activity"
	"log/slog"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/elevenlabs"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/openrouter"
)

// Activities holds the clients activities use. Build it once in the worker.
type Activities struct {
	DB *ent.Client
	// SQL is the same database for the data migrations' set-based statements.
	SQL *sql.DB
	// DatabaseURL and BackupDir are for pg_dump/pg_restore around migrations.
	DatabaseURL string
	BackupDir   string
	// PGBinDir is the folder holding pg_dump and pg_restore; empty means
	// PATH. Tests point it at wrappers that record the tools' argv.
	PGBinDir string

	Keys       *keycrypt.Keyring
	OpenRouter *openrouter.Client
	ElevenLabs *elevenlabs.Client
	Discord    *discordgo.Session
	Log        *slog.Logger

	// GuestMode and OperatorKey decide what a user without a key may do.
	GuestMode   config.GuestMode
	OperatorKey string
	// ElevenLabsOperatorKey speaks for users without their own ElevenLabs
	// key, only under GUEST_MODE=all.
	ElevenLabsOperatorKey string
	// OperatorDiscordID is BOT_OWNER_DISCORD_ID, who may use every
	// personality (internal/access); "" when unset.
	OperatorDiscordID string
	// Limits are the per-user allowances from the configuration.
	Limits Limits

	// webhooks caches each channel's webhook (channel id → *discordgo.Webhook).
	webhooks sync.Map
}

// whileHeartbeating runs fn, heartbeating every 2 s with details, so that a
// worker killed during a long call, dump or scan is noticed within the
// heartbeat timeout instead of the activity's whole timeout.
func whileHeartbeating(ctx context.Context, fn func() error, details ...any) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details...)
			}
		}
	}()
	return fn()
}
