package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
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

// GenerateWithinLimits is Generate behind the guest allowances: a user who
// would be answered on the operator's key and has, in the last 24 h, used
// LIMIT_GUEST_TOKENS_PER_DAY tokens or spent LIMIT_GUEST_USD_PER_DAY dollars
// gets ErrLimitReached and no provider call is made.
//
// The check cannot sit in the workflow as its own activity with Generate
// after it: whose key pays is decided here, in the worker, and the
// reservation must end when this call's usage row exists.
func (a *Activities) GenerateWithinLimits(ctx context.Context, in GenerateInput) (GenerateOutput, error) {
	if checks := a.guestAllowances(); len(checks) > 0 {
		guest, err := a.onOperatorKey(ctx, in.DiscordUserID)
		if err != nil {
			return GenerateOutput{}, err
		}
		if guest {
			hold, _, err := a.reserve(ctx, in.DiscordUserID, GuestTokenWindow, holdSpec{kind: "text", tokens: HoldTokens, estimateCost: true}, checks...)
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
	hold, used, err := a.reserve(ctx, discordUserID, ImageWindow, holdSpec{kind: "image"}, allowance{"image", lim, countRows("image")})
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

// guestAllowances are the limits of a reply on the operator's key.
func (a *Activities) guestAllowances() []allowance {
	var out []allowance
	if lim := a.Limits.GuestTokensPerDay; lim > 0 {
		out = append(out, allowance{"text", lim, sumTokens("text")})
	}
	if usd := a.Limits.GuestUSDPerDay; usd > 0 {
		out = append(out, allowance{KindUSD, nanoUSD(usd), sumCost})
	}
	return out
}

// KindUSD is LimitDetails.Kind of the daily spend cap
// (LIMIT_GUEST_USD_PER_DAY); its Limit is in billionths of a dollar.
const KindUSD = "usd"

// allowance is one limit reserve enforces: used says how much of the
// window's rows counts against limit, in the limit's unit.
type allowance struct {
	kind  string // LimitDetails.Kind: text (tokens), image (images), usd (nano-dollars)
	limit int
	used  func([]usageRow) int
}

// holdSpec is the usage_logs row reserve inserts for the request it admits.
type holdSpec struct {
	kind   string // request_type
	tokens int
	// estimateCost gives the hold a cost: that of the user's most expensive
	// text call in the window (0 before their first). A call's cost is known
	// only after it, so without an estimate two replies admitted together
	// just under the spend cap would both go ahead; with it the second
	// counts the first as likely to cost what the dearest one did.
	estimateCost bool
}

type usageRow struct {
	kind   string // request_type
	hold   bool   // a reservation, not a call
	tokens int
	nanos  int       // cost_usd in billionths of a dollar; 0 when null
	freeAt time.Time // when the row stops counting
}

// nanoUSD is dollars in billionths, the unit the spend cap counts in: one
// embedding can cost less than a millionth of a dollar.
func nanoUSD(dollars float64) int { return int(math.Round(dollars * 1e9)) }

func countRows(kind string) func([]usageRow) int {
	return func(rows []usageRow) int {
		n := 0
		for _, r := range rows {
			if r.kind == kind {
				n++
			}
		}
		return n
	}
}

func sumTokens(kind string) func([]usageRow) int {
	return func(rows []usageRow) int {
		n := 0
		for _, r := range rows {
			if r.kind == kind {
				n += r.tokens
			}
		}
		return n
	}
}

// sumCost is every row's cost, whatever its kind: the spend cap counts
// images, descriptions and embeddings as well as replies.
func sumCost(rows []usageRow) int {
	n := 0
	for _, r := range rows {
		n += r.nanos
	}
	return n
}

// costEstimate is the cost a hold stands for (holdSpec.estimateCost).
func costEstimate(rows []usageRow) int {
	n := 0
	for _, r := range rows {
		if r.kind == "text" && !r.hold {
			n = max(n, r.nanos)
		}
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
// and in-flight holds against each check and, when every one has something
// left, inserts a hold. Two requests at the same instant queue on the lock,
// and the second counts the first's hold, so they cannot both take the last
// slot. The lock is not held across the provider call: the hold stands in
// for the usage until then. n is what the first check found used.
func (a *Activities) reserve(ctx context.Context, discordID string, window time.Duration, h holdSpec, checks ...allowance) (hold uuid.UUID, n int, err error) {
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
	rows, err := usageIn(ctx, tx, userID, now, window)
	if err != nil {
		return uuid.Nil, 0, err
	}
	for i, c := range checks {
		used := c.used(rows)
		if i == 0 {
			n = used
		}
		if used >= c.limit {
			return uuid.Nil, n, limitReached(c.kind, c.limit, retryAt(rows, c.limit, c.used))
		}
	}
	var cost *float64
	if h.estimateCost {
		cost = new(float64(costEstimate(rows)) / 1e9)
	}
	hold = uuid.New()
	if _, err := tx.ExecContext(ctx, `INSERT INTO usage_logs (id, user_id, provider, model, tokens_total, request_type, timestamp, cost_usd)
		VALUES ($1, $2, $3, '', $4, $5, $6, $7)`, hold, userID, HoldProvider, h.tokens, h.kind, now, cost); err != nil {
		return uuid.Nil, 0, fmt.Errorf("reserve usage: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return uuid.Nil, 0, fmt.Errorf("commit usage reservation: %w", err)
	}
	return hold, n, nil
}

// usageInQuery reads the user's rows of every kind in the window ($2 on),
// and their holds ($4) younger than HoldTTL ($3 on), through the index on
// (user_id, timestamp) — TestUsageInQueryUsesTheIndex.
const usageInQuery = `SELECT request_type, provider = $4, tokens_total, cost_usd, timestamp FROM usage_logs
	WHERE user_id = $1 AND timestamp > $2 AND (provider <> $4 OR timestamp > $3)`

// usageIn reads the user's rows of every kind in the window, and their holds
// younger than HoldTTL, through the index on (user_id, timestamp).
func usageIn(ctx context.Context, tx *sql.Tx, userID uuid.UUID, now time.Time, window time.Duration) ([]usageRow, error) {
	rs, err := tx.QueryContext(ctx, usageInQuery, userID, now.Add(-window), now.Add(-HoldTTL), HoldProvider)
	if err != nil {
		return nil, fmt.Errorf("count usage: %w", err)
	}
	defer rs.Close()
	var rows []usageRow
	for rs.Next() {
		var r usageRow
		var ts time.Time
		var cost sql.NullFloat64
		if err := rs.Scan(&r.kind, &r.hold, &r.tokens, &cost, &ts); err != nil {
			return nil, fmt.Errorf("count usage: %w", err)
		}
		r.nanos = nanoUSD(cost.Float64)
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
	switch kind {
	case "image":
		msg = fmt.Sprintf("you have made %d images in the last hour; try again after %s", limit, at.UTC().Format(time.RFC3339))
	case KindUSD:
		msg = fmt.Sprintf("you have spent today's shared allowance of %s; try again after %s, or add your own key with /wallet set", dollars(limit), at.UTC().Format(time.RFC3339))
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

// dollars writes nano-dollars as an amount: cents when they say it exactly
// ($0.50), else every digit it needs ($0.0025).
func dollars(nanos int) string {
	v := float64(nanos) / 1e9
	if c := fmt.Sprintf("%.2f", v); nanoUSD(mustFloat(c)) == nanos {
		return "$" + c
	}
	return "$" + strconv.FormatFloat(v, 'f', -1, 64)
}

func mustFloat(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}
