package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/store"
)

// Rolling windows of the limits.
const (
	GuestTokenWindow = 24 * time.Hour
	ImageWindow      = time.Hour
)

// HoldTokens is what an in-flight guest request reserves of the allowance
// until its real usage row is written: usage is only known after the call, so
// without a reservation every request that starts before the first finishes
// would see the same "one slot left".
const HoldTokens = 1000

// HoldTTL bounds how long a hold counts when the worker dies before releasing
// it; it is longer than Generate's StartToCloseTimeout (3 min), so a live
// hold never expires under its own request. Past it a hold is expired: the
// retention purge (workflows.PurgeRetention) deletes it.
const HoldTTL = 5 * time.Minute

// HoldProvider marks usage_logs rows that are reservations, not provider
// calls; the schema has no other place for them and no migration may add one.
const HoldProvider = store.HoldProvider

// GenerateWithinLimits is Generate behind the guest allowance: a user who
// would be answered on the operator's key and has used LIMIT_GUEST_TOKENS_PER_DAY
// in the last 24 h gets ErrLimitReached and no provider call is made.
//
// The check cannot sit in the workflow as its own activity with Generate
// after it: whose key pays is decided here, in the worker, and the
// reservation must end when this call's usage row exists.
func (a *Activities) GenerateWithinLimits(ctx context.Context, in GenerateInput) (GenerateOutput, error) {
	if lim := a.Limits.GuestTokensPerDay; lim > 0 {
		guest, err := a.onOperatorKey(ctx, in.DiscordUserID)
		if err != nil {
			return GenerateOutput{}, err
		}
		if guest {
			hold, _, err := a.reserve(ctx, in.DiscordUserID, "text", lim, GuestTokenWindow, HoldTokens, sumTokens)
			if err != nil {
				return GenerateOutput{}, err
			}
			out, err := a.Generate(ctx, in)
			// Generate has written the real usage row by the time it
			// returns, unless it left it to the workflow: then the hold
			// counts until it lapses.
			if out.PendingUsage == nil {
				a.releaseHold(hold)
			}
			return out, err
		}
	}
	return a.Generate(ctx, in)
}

// ImageLimitResult is an image request that may go ahead.
type ImageLimitResult struct {
	Limit     int `json:"limit"`
	Remaining int `json:"remaining"` // after this request
	// HoldID reserves this request's slot; pass it to deleteHold once the
	// image's usage row is written (or the request failed). A hold that is
	// never released stops counting after five minutes.
	HoldID uuid.UUID `json:"hold_id"`
}

// checkImageLimit admits one image request for the user, or refuses it with
// ErrLimitReached once LIMIT_IMAGES_PER_HOUR images were made in the last
// hour. It applies to every user, own key or not.
func (a *Activities) checkImageLimit(ctx context.Context, discordUserID string) (ImageLimitResult, error) {
	lim := a.Limits.ImagesPerHour
	if lim <= 0 {
		return ImageLimitResult{}, nil
	}
	hold, used, err := a.reserve(ctx, discordUserID, "image", lim, ImageWindow, 0, countRows)
	if err != nil {
		return ImageLimitResult{}, err
	}
	return ImageLimitResult{Limit: lim, Remaining: max(lim-used-1, 0), HoldID: hold}, nil
}

// deleteHold ends a reservation made by reserve.
func (a *Activities) deleteHold(ctx context.Context, holdID uuid.UUID) error {
	if holdID == uuid.Nil {
		return nil
	}
	if _, err := a.SQL.ExecContext(ctx, `DELETE FROM usage_logs WHERE id = $1 AND provider = $2`, holdID, HoldProvider); err != nil {
		return fmt.Errorf("release usage hold: %w", err)
	}
	return nil
}

// onOperatorKey mirrors resolveKey without opening anything: only a user with
// no OpenRouter key at all can be answered on the operator's key, and only
// when guest mode lets anyone be.
func (a *Activities) onOperatorKey(ctx context.Context, discordUserID string) (bool, error) {
	if a.GuestMode == config.GuestOff || a.OperatorKey == "" {
		return false, nil
	}
	_, err := a.store().Key(ctx, discordUserID, ProviderOpenRouter)
	if ent.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up key: %w", err)
	}
	return false, nil
}

type usageRow struct {
	tokens int
	freeAt time.Time // when the row stops counting
}

func countRows(rows []usageRow) int { return len(rows) }

func sumTokens(rows []usageRow) int {
	n := 0
	for _, r := range rows {
		n += r.tokens
	}
	return n
}

// sql is the statement taking the lock for the user id given as $1.
func (l LimitLock) sql() string {
	if l == RowLock {
		return `SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE`
	}
	return `SELECT pg_advisory_xact_lock(hashtext('limit:' || $1))`
}

// reserve is the serialisation point of every limit: under a per-user
// advisory lock held for one short transaction it counts the window's usage
// and in-flight holds and, when something is left, inserts a hold. Two
// requests at the same instant queue on the lock, and the second counts the
// first's hold, so they cannot both take the last slot. The lock is not held
// across the provider call: the hold stands in for the usage until then.
func (a *Activities) reserve(ctx context.Context, discordID, kind string, limit int, window time.Duration, holdTokens int, used func([]usageRow) int) (hold uuid.UUID, n int, err error) {
	if a.SQL == nil {
		return uuid.Nil, 0, errors.New("usage limits need the database handle (Activities.SQL)")
	}
	userID, err := a.ensureUser(ctx, discordID, "")
	if err != nil {
		return uuid.Nil, 0, err
	}
	tx, err := a.SQL.BeginTx(ctx, nil)
	if err != nil {
		return uuid.Nil, 0, fmt.Errorf("begin limit check: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, a.Limits.Lock.sql(), userID.String()); err != nil {
		return uuid.Nil, 0, fmt.Errorf("lock usage of user: %w", err)
	}
	// Read after the lock: under READ COMMITTED each statement sees every
	// transaction committed before it started, including the previous holder's.
	now := time.Now()
	rows, err := usageIn(ctx, tx, userID, kind, now, window)
	if err != nil {
		return uuid.Nil, 0, err
	}
	if n = used(rows); n >= limit {
		return uuid.Nil, n, limitReached(kind, limit, retryAt(rows, limit, used))
	}
	hold = uuid.New()
	if _, err := tx.ExecContext(ctx, `INSERT INTO usage_logs (id, user_id, provider, model, tokens_total, request_type, timestamp)
		VALUES ($1, $2, $3, '', $4, $5, $6)`, hold, userID, HoldProvider, holdTokens, kind, now); err != nil {
		return uuid.Nil, 0, fmt.Errorf("reserve usage: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return uuid.Nil, 0, fmt.Errorf("commit usage reservation: %w", err)
	}
	return hold, n, nil
}

func usageIn(ctx context.Context, tx *sql.Tx, userID uuid.UUID, kind string, now time.Time, window time.Duration) ([]usageRow, error) {
	rs, err := tx.QueryContext(ctx, `SELECT tokens_total, timestamp FROM usage_logs
		WHERE user_id = $1 AND request_type = $2
		  AND ((provider <> $5 AND timestamp > $3) OR (provider = $5 AND timestamp > $4))`,
		userID, kind, now.Add(-window), now.Add(-HoldTTL), HoldProvider)
	if err != nil {
		return nil, fmt.Errorf("count usage: %w", err)
	}
	defer rs.Close()
	var rows []usageRow
	for rs.Next() {
		var r usageRow
		var ts time.Time
		if err := rs.Scan(&r.tokens, &ts); err != nil {
			return nil, fmt.Errorf("count usage: %w", err)
		}
		// A hold stands for a usage row about to be written, which will count
		// for the whole window: telling a refused user "after the hold
		// expires" would send them back to be refused again.
		r.freeAt = ts.Add(window)
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("count usage: %w", err)
	}
	return rows, nil
}

// retryAt is the first moment enough of the window's usage has rolled out for
// the user to be under the limit again.
func retryAt(rows []usageRow, limit int, used func([]usageRow) int) time.Time {
	sort.Slice(rows, func(i, j int) bool { return rows[i].freeAt.Before(rows[j].freeAt) })
	for i := range rows {
		if used(rows[i+1:]) < limit {
			return rows[i].freeAt
		}
	}
	return time.Now()
}

func limitReached(kind string, limit int, at time.Time) error {
	msg := fmt.Sprintf("you have used today's shared allowance of %d tokens; try again after %s", limit, at.UTC().Format(time.RFC3339))
	if kind == "image" {
		msg = fmt.Sprintf("you have made %d images in the last hour; try again after %s", limit, at.UTC().Format(time.RFC3339))
	}
	return temporal.NewNonRetryableApplicationError(msg, ErrLimitReached, nil,
		LimitDetails{Kind: kind, Limit: limit, RetryAt: at.UTC().Truncate(time.Second).Add(time.Second)})
}

// releaseHold runs after the request, whose context may be cancelled by then;
// a hold that cannot be deleted only stops counting at HoldTTL.
func (a *Activities) releaseHold(hold uuid.UUID) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.deleteHold(ctx, hold); err != nil {
		a.Log.Warn("usage hold not released; it lapses by itself", "error", err)
	}
}
