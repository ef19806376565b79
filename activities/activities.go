// Package activities is what the reply path's workflows do to the world: the
// database through internal/store (the data access the bot shares),
// OpenRouter, ElevenLabs, Discord. Activities is one
// struct of injected dependencies, registered once by the worker; workflows
// name its methods through a nil *Activities. The operator's work (data
// migrations, key rotation) is package activities/operator.
//
// Files: errors.go holds every error type and classify.go what becomes one;
// keys.go the providers' keys (whose key pays); delivery*.go every post to
// Discord; one file per area for the rest (generate, voice, imagine, limits,
// usage, history, memory; replies.go counts a finished reply once,
// searchattrs.go says which search attributes the namespace has).
package activities

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/elevenlabs"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/store"
)

// Activities holds the clients activities use. Build it once in the worker.
type Activities struct {
	// DB is the database, read and written through internal/store.
	DB *ent.Client
	// SQL is the same database, for the usage limits' short locking
	// transactions (limits.go), which keep their own SQL.
	SQL *sql.DB

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

	// Memory is long-term memory (internal/memory): recalled into each
	// prompt and written after each reply (memory.go). nil switches it off.
	Memory memory.Index
	// EmbeddingModel is EMBEDDING_MODEL, the OpenRouter model of every
	// embedding Memory stores or is searched with.
	EmbeddingModel string
	// Incognito reports whether the user asked that nothing new be
	// remembered about them (/memory incognito); nil reads users.incognito
	// through internal/store (tests set it to choose the moment). An error
	// counts as incognito at reply time and is retried when the memory is
	// written.
	Incognito func(ctx context.Context, discordUserID string) (bool, error)
	// StreamsReplies reports whether a personality's replies stream
	// (generate_stream.go); nil means streamsReplies, the personality's
	// own setting. Tests and benchmarks set it to compare the two.
	StreamsReplies func(p *ent.Personality) bool

	// VisionModel is VISION_MODEL, which describes images for models that
	// take none when the personality sets no vision_model.
	VisionModel string
	// models caches which OpenRouter models take images (images.go).
	models modelList

	// SearchAttributes is the worker's view of the namespace's search
	// attributes (RegisteredSearchAttributes); nil: none are set.
	SearchAttributes *searchattr.Known

	// webhooks caches each channel's webhook (channel id → *discordgo.Webhook).
	webhooks sync.Map
	// paces are the webhooks' recent requests of streamed replies
	// (webhook id → *webhookPace, stream_pace.go).
	paces sync.Map
}

// store is the data access over DB (internal/store): every query of the
// reply path goes through it.
func (a *Activities) store() *store.Store { return store.New(a.DB) }

// Limits are the per-user allowances; 0 switches a limit off.
type Limits struct {
	GuestTokensPerDay int
	// GuestUSDPerDay is LIMIT_GUEST_USD_PER_DAY, US dollars.
	GuestUSDPerDay float64
	ImagesPerHour  int
	// Lock is how one user's concurrent requests queue for their
	// allowance; the zero value is AdvisoryLock.
	Lock LimitLock
}

// LimitLock is the serialisation point of reserve (Limits.Lock).
type LimitLock int

// The locks reserve can take; BENCHMARKS.md compares them.
const (
	// AdvisoryLock is a per-user transaction-scoped advisory lock: the
	// default and the product's choice.
	AdvisoryLock LimitLock = iota
	// RowLock locks the user's row FOR UPDATE: the measured alternative.
	RowLock
)
