package memory

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
)

// Postgres is the [Index] on PostgreSQL without extensions (see the package
// documentation). It is safe for concurrent use; several processes may
// share one database, each with its own Postgres.
type Postgres struct {
	db     *sql.DB
	mirror *mirror
}

// Options tunes a Postgres. The zero value is fine.
type Options struct {
	// MirrorBytes bounds the signatures kept in memory, across all pairs:
	// about 260 bytes a memory for a 1536-dimension model. When a pair
	// would push the total past it, the pairs used least recently are
	// dropped and loaded again at their next search. Zero means 256 MiB
	// (about a million memories).
	MirrorBytes int64
}

// NewPostgres returns the Index on db, a pool on a database migrated to
// the memories table.
func NewPostgres(db *sql.DB, opts Options) *Postgres {
	budget := opts.MirrorBytes
	if budget <= 0 {
		budget = 256 << 20
	}
	return &Postgres{db: db, mirror: newMirror(budget)}
}

var _ Index = (*Postgres)(nil)

// Add implements [Index]. CreatedAt is always the database's now(): the
// searches of other processes find new memories by it, so it cannot lie
// in the past. An empty content or model, or an embedding that is empty
// or holds a NaN or infinity, is an ErrInvalid.
func (p *Postgres) Add(ctx context.Context, m Memory) (Memory, error) {
	switch {
	case strings.TrimSpace(m.Content) == "":
		return Memory{}, fmt.Errorf("%w: a memory needs content", ErrInvalid)
	case m.Model == "":
		return Memory{}, fmt.Errorf("%w: a memory needs the model of its embedding", ErrInvalid)
	case !usable(m.Embedding):
		return Memory{}, fmt.Errorf("%w: a memory's embedding must be non-empty and finite", ErrInvalid)
	}
	if m.ID == uuid.Nil {
		m.ID = uuid.New()
	}
	err := p.db.QueryRowContext(ctx, `INSERT INTO memories
		(id, personality_id, user_id, content, model, embedding, signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at`,
		m.ID, m.PersonalityID, m.UserID, m.Content, m.Model,
		encodeVector(m.Embedding), encodeSignature(signature(m.Embedding))).Scan(&m.CreatedAt)
	if err != nil {
		return Memory{}, fmt.Errorf("memory: store: %w", err)
	}
	return m, nil
}

// candidates is how many memories the first pass hands to the exact
// ranking for a search of limit: enough that the Hamming order, coarser
// than the cosine's, rarely leaves out one that belonged in the result.
func candidates(limit int) int { return max(8*limit, 64) }

// Search implements [Index]: the pair's signatures nearest to q.Vector's
// (the first pass, in memory), then the exact cosine of those candidates'
// embeddings, read by primary key. A memory deleted by another process
// since the signatures were read is simply not found by that read.
func (p *Postgres) Search(ctx context.Context, q Query) ([]Scored, error) {
	switch {
	case q.Limit < 1 || q.Limit > MaxLimit:
		return nil, fmt.Errorf("%w: search limit %d is outside 1 to %d", ErrInvalid, q.Limit, MaxLimit)
	case q.Model == "":
		return nil, fmt.Errorf("%w: a search needs the model of its vector", ErrInvalid)
	case !usable(q.Vector):
		return nil, fmt.Errorf("%w: a search vector must be non-empty and finite", ErrInvalid)
	case len(q.Exclude) > MaxExclude:
		return nil, fmt.Errorf("%w: %d memories to exclude, more than %d", ErrInvalid, len(q.Exclude), MaxExclude)
	}
	key := pairKey{personality: q.PersonalityID, user: q.UserID, model: q.Model}
	// The excluded may be among the nearest: ask for as many more.
	ids, err := p.mirror.nearest(ctx, p.db, key, signature(q.Vector), candidates(q.Limit)+len(q.Exclude))
	if err != nil {
		return nil, err
	}
	if len(q.Exclude) > 0 {
		skip := make(map[uuid.UUID]bool, len(q.Exclude))
		for _, id := range q.Exclude {
			skip[id] = true
		}
		ids = slices.DeleteFunc(ids, func(id uuid.UUID) bool { return skip[id] })
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// By primary key alone, so no plan can prefer the pair's index (and
	// read the whole pair); the scope is checked on each row instead.
	rows, err := p.db.QueryContext(ctx, `SELECT id, personality_id, user_id, model, content, created_at, embedding
		FROM memories WHERE id = ANY($1::uuid[])`, pq.Array(uuidStrings(ids)))
	if err != nil {
		return nil, fmt.Errorf("memory: read candidates: %w", err)
	}
	defer rows.Close()
	var out []Scored
	found := make(map[uuid.UUID]bool, len(ids))
	for rows.Next() {
		var s Scored
		var raw []byte
		if err := rows.Scan(&s.ID, &s.PersonalityID, &s.UserID, &s.Model, &s.Content, &s.CreatedAt, &raw); err != nil {
			return nil, fmt.Errorf("memory: read candidates: %w", err)
		}
		if s.PersonalityID != q.PersonalityID || s.UserID != q.UserID || s.Model != q.Model {
			continue // never another pair's, whatever the mirror held
		}
		found[s.ID] = true
		s.Embedding = decodeVector(raw)
		if s.Score = Cosine(q.Vector, s.Embedding); s.Score >= q.MinScore {
			out = append(out, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("memory: read candidates: %w", err)
	}
	if len(found) < len(ids) {
		var gone []uuid.UUID
		for _, id := range ids {
			if !found[id] {
				gone = append(gone, id)
			}
		}
		p.mirror.forget(key, gone)
	}
	slices.SortFunc(out, func(a, b Scored) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return out[:min(len(out), q.Limit)], nil
}

// List implements [Index]. A Next that does not parse is an ErrInvalid.
func (p *Postgres) List(ctx context.Context, personalityID, userID uuid.UUID, page Page) (Listed, error) {
	if page.Size < 1 || page.Size > MaxLimit {
		return Listed{}, fmt.Errorf("%w: page size %d is outside 1 to %d", ErrInvalid, page.Size, MaxLimit)
	}
	query := `SELECT id, content, model, created_at FROM memories
		WHERE personality_id = $1 AND user_id = $2`
	args := []any{personalityID, userID, page.Size + 1}
	if page.After != "" {
		at, id, err := parseCursor(page.After)
		if err != nil {
			return Listed{}, err
		}
		query += ` AND (created_at, id) < ($4, $5)`
		args = append(args, at, id)
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT $3`
	rows, err := p.db.QueryContext(ctx, query, args...)
	if err != nil {
		return Listed{}, fmt.Errorf("memory: list: %w", err)
	}
	defer rows.Close()
	var out Listed
	for rows.Next() {
		m := Memory{PersonalityID: personalityID, UserID: userID}
		if err := rows.Scan(&m.ID, &m.Content, &m.Model, &m.CreatedAt); err != nil {
			return Listed{}, fmt.Errorf("memory: list: %w", err)
		}
		out.Memories = append(out.Memories, m)
	}
	if err := rows.Err(); err != nil {
		return Listed{}, fmt.Errorf("memory: list: %w", err)
	}
	if len(out.Memories) > page.Size {
		out.Memories = out.Memories[:page.Size]
		last := out.Memories[page.Size-1]
		out.Next = formatCursor(last.CreatedAt, last.ID)
	}
	return out, nil
}

// formatCursor is a page position: the microseconds since 1970 of the last
// memory shown (PostgreSQL's precision), in hex, a dot, and its id.
func formatCursor(at time.Time, id uuid.UUID) string {
	return strconv.FormatInt(at.UnixMicro(), 16) + "." + id.String()
}

func parseCursor(s string) (time.Time, uuid.UUID, error) {
	micros, rest, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(micros, 16, 64)
	id, idErr := uuid.Parse(rest)
	if !ok || err != nil || idErr != nil {
		return time.Time{}, uuid.Nil, fmt.Errorf("%w: page cursor %q is not one List returned", ErrInvalid, s)
	}
	return time.UnixMicro(n), id, nil
}

// Forget implements [Index].
func (p *Postgres) Forget(ctx context.Context, userID, id uuid.UUID) (bool, error) {
	res, err := p.db.ExecContext(ctx, `DELETE FROM memories WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return false, fmt.Errorf("memory: forget: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("memory: forget: %w", err)
	}
	p.mirror.forgetEverywhere(userID, id)
	return n > 0, nil
}

// ForgetAll implements [Index].
func (p *Postgres) ForgetAll(ctx context.Context, personalityID, userID uuid.UUID) (int, error) {
	res, err := p.db.ExecContext(ctx, `DELETE FROM memories WHERE personality_id = $1 AND user_id = $2`,
		personalityID, userID)
	if err != nil {
		return 0, fmt.Errorf("memory: forget all: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("memory: forget all: %w", err)
	}
	p.mirror.drop(personalityID, userID)
	return int(n), nil
}

func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
