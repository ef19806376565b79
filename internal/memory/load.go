package memory

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/google/uuid"
)

// Load is a synthetic memories table for BulkLoad: the memories of one
// pair, in topics, among the rows of many others.
type Load struct {
	PersonalityID uuid.UUID
	UserID        uuid.UUID
	// Model is the pair's memories' embedding model.
	Model string
	// N is how many memories the pair has: each a vector near one of
	// Topics (TopicVector), so a query near a topic finds some.
	N int
	// Topics are the directions the pair's memories cluster around, all of
	// one length (the embeddings' dimensions); RandomTopics makes some.
	Topics [][]float32
	// Others is how many rows of 1,000 other pairs (owners that do not
	// exist) share the table, with 4-dimension embeddings no search of the
	// pair reads.
	Others int
	// Seed makes the pair's vectors; equal loads write equal vectors.
	Seed uint64
}

// BulkLoad fills the memories table of db as a busy deployment would hold
// it, for benchmarks and load tests: l.N memories of the pair (COPY through
// a temporary table) and l.Others rows of other pairs (generate_series),
// shuffled together so the pair's rows are spread over the table as years
// of interleaved conversations leave them, created over the last year.
// Foreign-key triggers are off for the load (session_replication_role
// replica, which needs a superuser), and the table is vacuumed and
// analysed after, as autovacuum would have. About 20 s for 10,000 memories
// of 1536 dimensions and 1,000,000 rows on 2 cores.
func BulkLoad(ctx context.Context, db *sql.DB, l Load) error {
	if l.N > 0 && len(l.Topics) == 0 {
		return fmt.Errorf("%w: a load of the pair's memories needs topics", ErrInvalid)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("memory: load: %w", err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) error {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("memory: load: %w", err)
		}
		return nil
	}
	if err := exec(`SET session_replication_role = replica`); err != nil {
		return err
	}
	if err := exec(`CREATE TEMP TABLE IF NOT EXISTS stage (k int, embedding bytea, signature bytea)`); err != nil {
		return err
	}
	if err := copyPair(ctx, conn, l); err != nil {
		return err
	}
	if err := exec(`INSERT INTO memories (personality_id, user_id, content, model, embedding, signature, created_at)
		SELECT personality_id, user_id, content, $3, embedding, signature, now() - interval '1 second' * (random() * 31536000)
		FROM (
			SELECT $1::uuid AS personality_id, $2::uuid AS user_id, 'loaded memory ' || k AS content, embedding, signature FROM stage
			UNION ALL
			SELECT md5('p' || (i % 1000))::uuid, md5('u' || (i % 1000))::uuid, 'other memory ' || i,
			       decode(md5(i::text), 'hex'), decode(substr(md5(i::text), 1, 16), 'hex')
			FROM generate_series(1, $4::int) i
		) rows ORDER BY random()`, l.PersonalityID, l.UserID, l.Model, l.Others); err != nil {
		return err
	}
	for _, q := range []string{`DROP TABLE stage`, `RESET session_replication_role`, `VACUUM ANALYZE memories`} {
		if err := exec(q); err != nil {
			return err
		}
	}
	return nil
}

// copyPair writes the pair's l.N vectors into the stage table with COPY.
func copyPair(ctx context.Context, conn *sql.Conn, l Load) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("memory: load: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.PrepareContext(ctx, `COPY stage (k, embedding, signature) FROM STDIN`)
	if err != nil {
		return fmt.Errorf("memory: load: %w", err)
	}
	r := rand.New(rand.NewPCG(l.Seed, 2))
	for k := range l.N {
		v := TopicVector(r, l.Topics)
		if _, err := st.ExecContext(ctx, k, encodeVector(v), encodeSignature(signature(v))); err != nil {
			return fmt.Errorf("memory: load: %w", err)
		}
	}
	if _, err := st.ExecContext(ctx); err != nil {
		return fmt.Errorf("memory: load: %w", err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("memory: load: %w", err)
	}
	return tx.Commit()
}

// RandomTopics is n random directions of dims dimensions (RandomVector).
func RandomTopics(r *rand.Rand, n, dims int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = RandomVector(r, dims)
	}
	return out
}

// RandomVector is a vector of dims values uniform in [-1, 1); its length
// is about sqrt(dims/3).
func RandomVector(r *rand.Rand, dims int) []float32 {
	v := make([]float32, dims)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// TopicVector is a vector near one of topics, picked at random: the topic
// scaled to a RandomVector's length, plus a RandomVector. Two of one topic
// have a cosine similarity of about 0.5, one and its topic about 0.7, two
// of different (random) topics about 0 — as memories cluster around the
// few things people talk about.
func TopicVector(r *rand.Rand, topics [][]float32) []float32 {
	c := topics[r.IntN(len(topics))]
	var norm float64
	for _, x := range c {
		norm += float64(x) * float64(x)
	}
	scale := float32(math.Sqrt(float64(len(c))/3) / math.Sqrt(norm))
	v := RandomVector(r, len(c))
	for i := range v {
		v[i] += c[i] * scale
	}
	return v
}
