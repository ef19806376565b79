package memory

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// pairKey names the signatures one search compares: one pair's, of one
// model.
type pairKey struct {
	personality, user uuid.UUID
	model             string
}

// lookback is how far before the newest memory it has seen a pair's
// top-up reads again. created_at is the inserting transaction's start, so
// a memory committed a moment after a later-started one carries the older
// time; every Add is one statement, over in far less than this.
const lookback = time.Minute

// entryOverhead is what a mirrored memory costs besides its signature: its
// id, twice (slice and map), and the map's own share.
const entryOverhead = 16 + 16 + 32

// mirror holds, per pair, the signatures of its memories, as a cache of the
// memories table kept current by reading what was added since it last
// looked: the first pass of every search runs here, over a few megabytes of
// words, rather than as one expression a row inside PostgreSQL (about a
// microsecond a row; 100 ms and more at 100,000 memories on 2 cores).
type mirror struct {
	budget int64

	mu    sync.Mutex
	pairs map[pairKey]*pairSigs
	used  int64
	clock uint64
}

func newMirror(budget int64) *mirror {
	return &mirror{budget: budget, pairs: map[pairKey]*pairSigs{}}
}

// pairSigs is one pair's mirrored signatures, all of one width (words).
// Memories whose signature has another width (the model's dimensions
// changed) are left out, and a query of another width finds nothing.
type pairSigs struct {
	mu sync.Mutex
	// loaded is whether the pair was read once; through is the newest
	// created_at seen.
	loaded  bool
	through time.Time
	words   int
	ids     []uuid.UUID
	sigs    []uint64
	pos     map[uuid.UUID]int
	// lastUse orders pairs for eviction; cost is what the mirror counts
	// for the pair. Both are guarded by mirror.mu.
	lastUse uint64
	cost    int64
}

// nearest returns the ids of at most n of key's memories whose signatures
// are nearest to sig, after bringing the pair up to date.
func (m *mirror) nearest(ctx context.Context, db *sql.DB, key pairKey, sig []uint64, n int) ([]uuid.UUID, error) {
	p := m.pair(key)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.sync(ctx, db, key); err != nil {
		return nil, err
	}
	m.account(key, p)
	if p.words != len(sig) || len(p.ids) == 0 {
		return nil, nil
	}
	return p.nearest(sig, n), nil
}

// pair finds or makes key's entry and marks it used.
func (m *mirror) pair(key pairKey) *pairSigs {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pairs[key]
	if !ok {
		p = &pairSigs{pos: map[uuid.UUID]int{}}
		m.pairs[key] = p
	}
	m.clock++
	p.lastUse = m.clock
	return p
}

// account records p's current size and evicts the pairs used least
// recently, other than key, while the total is over budget.
func (m *mirror) account(key pairKey, p *pairSigs) {
	cost := int64(len(p.ids)) * int64(8*p.words+entryOverhead)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pairs[key] != p {
		return // dropped meanwhile (ForgetAll); the next search starts over
	}
	m.used += cost - p.cost
	p.cost = cost
	for m.used > m.budget {
		var oldest pairKey
		var found bool
		for k, q := range m.pairs {
			if k != key && (!found || q.lastUse < m.pairs[oldest].lastUse) {
				oldest, found = k, true
			}
		}
		if !found {
			return
		}
		m.used -= m.pairs[oldest].cost
		delete(m.pairs, oldest)
	}
}

// sync reads the pair's memories added since it last looked (all of them
// the first time), in created_at order, through the pair's index.
func (p *pairSigs) sync(ctx context.Context, db *sql.DB, key pairKey) error {
	since := p.through.Add(-lookback)
	if !p.loaded {
		since = time.Time{}
	}
	rows, err := db.QueryContext(ctx, `SELECT id, created_at, signature FROM memories
		WHERE personality_id = $1 AND user_id = $2 AND created_at > $3 AND model = $4
		ORDER BY created_at`, key.personality, key.user, since, key.model)
	if err != nil {
		return fmt.Errorf("memory: read signatures: %w", err)
	}
	defer rows.Close()
	var (
		id  uuid.UUID
		at  time.Time
		raw []byte
		buf []uint64
	)
	for rows.Next() {
		if err := rows.Scan(&id, &at, &raw); err != nil {
			return fmt.Errorf("memory: read signatures: %w", err)
		}
		p.through = at
		if _, ok := p.pos[id]; ok {
			continue
		}
		buf = decodeSignature(buf, raw)
		if len(p.ids) == 0 {
			p.words = len(buf)
		}
		if len(buf) != p.words || p.words == 0 {
			continue
		}
		p.pos[id] = len(p.ids)
		p.ids = append(p.ids, id)
		p.sigs = append(p.sigs, buf...)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("memory: read signatures: %w", err)
	}
	p.loaded = true
	return nil
}

// nearest selects the n entries of least Hamming distance to sig in one
// pass plus a histogram of the distances, without sorting them all.
func (p *pairSigs) nearest(sig []uint64, n int) []uuid.UUID {
	if len(p.ids) <= n {
		return append([]uuid.UUID(nil), p.ids...)
	}
	w := p.words
	dist := make([]uint32, len(p.ids))
	hist := make([]int, 64*w+1)
	for i := range p.ids {
		d := hamming(sig, p.sigs[i*w:(i+1)*w])
		dist[i] = uint32(d)
		hist[d]++
	}
	// cut is the least distance at which n entries are reached; those
	// nearer all go in, and the first ones at cut fill up the rest.
	cut, below := 0, 0
	for below+hist[cut] < n {
		below += hist[cut]
		cut++
	}
	atCut := n - below
	out := make([]uuid.UUID, 0, n)
	for i, d := range dist {
		switch {
		case int(d) < cut:
			out = append(out, p.ids[i])
		case int(d) == cut && atCut > 0:
			out = append(out, p.ids[i])
			atCut--
		}
	}
	return out
}

// remove drops the entries of ids, moving the last entry into each hole.
func (p *pairSigs) remove(ids []uuid.UUID) {
	w := p.words
	for _, id := range ids {
		i, ok := p.pos[id]
		if !ok {
			continue
		}
		last := len(p.ids) - 1
		if i != last {
			p.ids[i] = p.ids[last]
			copy(p.sigs[i*w:(i+1)*w], p.sigs[last*w:(last+1)*w])
			p.pos[p.ids[i]] = i
		}
		p.ids = p.ids[:last]
		p.sigs = p.sigs[:last*w]
		delete(p.pos, id)
	}
}

// forget drops ids from key's entry, if it is mirrored.
func (m *mirror) forget(key pairKey, ids []uuid.UUID) {
	m.mu.Lock()
	p := m.pairs[key]
	m.mu.Unlock()
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.remove(ids)
}

// forgetEverywhere drops id from every mirrored pair of user.
func (m *mirror) forgetEverywhere(user, id uuid.UUID) {
	m.mu.Lock()
	var keys []pairKey
	for k := range m.pairs {
		if k.user == user {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	for _, k := range keys {
		m.forget(k, []uuid.UUID{id})
	}
}

// drop forgets the pair's entries of every model, so its next search reads
// it afresh.
func (m *mirror) drop(personality, user uuid.UUID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, p := range m.pairs {
		if k.personality == personality && k.user == user {
			m.used -= p.cost
			delete(m.pairs, k)
		}
	}
}
