package memory

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"time"

	"github.com/google/uuid"
)

// Memory is one thing a personality remembers about a user.
type Memory struct {
	ID            uuid.UUID
	PersonalityID uuid.UUID
	UserID        uuid.UUID
	Content       string
	// Model is the embedding model that made Embedding (EMBEDDING_MODEL);
	// a search compares only embeddings of its own model.
	Model     string
	Embedding []float32
	CreatedAt time.Time
}

// Scored is a memory found by a search, with its cosine similarity to the
// query in [-1, 1].
type Scored struct {
	Memory
	Score float64
}

// Query is one search: the memories of one (personality, user) pair whose
// embedding by Model has a cosine similarity of at least MinScore with
// Vector, at most Limit of them, the most similar first.
type Query struct {
	PersonalityID uuid.UUID
	UserID        uuid.UUID
	Model         string
	Vector        []float32
	// Limit is the personality's memory_limit; at most MaxLimit.
	Limit int
	// MinScore is the personality's memory_score_threshold.
	MinScore float64
	// Exclude are memories not to return, whatever their score: those of
	// exchanges the model already sees in the request's conversation. The
	// Limit places go to the others. At most MaxExclude.
	Exclude []uuid.UUID
}

// MaxExclude bounds Query.Exclude: two ids (see activities.ReplyRequestIDs)
// for each of a history window's turns, up to 1,000 turns.
const MaxExclude = 2000

// MaxLimit bounds Query.Limit and Page.Size.
const MaxLimit = 100

// Page asks for one page of a pair's memories, newest first.
type Page struct {
	// After is the Next of the page before; empty for the first page.
	After string
	// Size is how many to return: 1 to MaxLimit.
	Size int
}

// Listed is one page of memories, newest first, without their embeddings.
type Listed struct {
	Memories []Memory
	// Next asks for the page after this one; empty on the last page. It is
	// short (under 60 characters), so it fits a Discord button's custom_id.
	Next string
}

// Index stores memories and searches them. Every method is scoped: a
// memory is only ever read, listed or deleted together with the user (and
// personality) it belongs to.
type Index interface {
	// Add stores m (ID and CreatedAt are filled in when zero) and returns
	// it as stored.
	Add(ctx context.Context, m Memory) (Memory, error)
	// Search returns the pair's memories nearest to q.Vector.
	Search(ctx context.Context, q Query) ([]Scored, error)
	// List returns one page of the pair's memories, newest first.
	List(ctx context.Context, personalityID, userID uuid.UUID, page Page) (Listed, error)
	// Forget deletes memory id if it belongs to userID, reporting whether
	// it did.
	Forget(ctx context.Context, userID, id uuid.UUID) (bool, error)
	// ForgetAll deletes every memory of the pair and returns how many.
	ForgetAll(ctx context.Context, personalityID, userID uuid.UUID) (int, error)
}

// ErrInvalid is wrapped by the errors of a memory, query or page that
// cannot be served as given (empty content, no embedding, a limit out of
// range); the message says which.
var ErrInvalid = errors.New("memory: invalid")

// encodeVector is v as little-endian float32s, the embedding column.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// decodeVector reverses encodeVector; a trailing partial value is dropped.
func decodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// signature is the sign bit of each dimension of v (set when positive),
// packed into 64-bit words: bit i%64 of word i/64. For embeddings,
// Hamming distance between signatures tracks the angle between the
// vectors (random-hyperplane LSH along the coordinate axes), so it can
// rank candidates at a fraction of a cosine's cost.
func signature(v []float32) []uint64 {
	s := make([]uint64, (len(v)+63)/64)
	for i, x := range v {
		if x > 0 {
			s[i/64] |= 1 << (i % 64)
		}
	}
	return s
}

// encodeSignature is s as little-endian bytes, the signature column.
func encodeSignature(s []uint64) []byte {
	b := make([]byte, 8*len(s))
	for i, w := range s {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	return b
}

// decodeSignature reverses encodeSignature into dst (reused when it has
// the capacity); a trailing partial word is dropped.
func decodeSignature(dst []uint64, b []byte) []uint64 {
	n := len(b) / 8
	dst = dst[:0]
	for i := range n {
		dst = append(dst, binary.LittleEndian.Uint64(b[8*i:]))
	}
	return dst
}

// hamming counts the bits in which a and b differ; they have equal length.
func hamming(a, b []uint64) int {
	d := 0
	for i := range a {
		d += bits.OnesCount64(a[i] ^ b[i])
	}
	return d
}

// Cosine is the cosine similarity of a and b, in [-1, 1]; 0 when either is
// zero or their lengths differ.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// usable reports whether v can be stored or searched with: not empty, and
// every value finite.
func usable(v []float32) bool {
	if len(v) == 0 {
		return false
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
