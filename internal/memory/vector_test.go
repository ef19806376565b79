package memory

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestVectorAndSignatureRoundTrip(t *testing.T) {
	v := []float32{0.5, -0.25, 0, 3e-8, -1, float32(math.Pi)}
	if got := decodeVector(encodeVector(v)); !slices.Equal(got, v) {
		t.Errorf("vector round trip = %v, want %v", got, v)
	}
	// Bit i of the signature is dimension i's sign; zero counts as not
	// positive.
	if got := signature(v); len(got) != 1 || got[0] != 0b101001 {
		t.Errorf("signature = %b, want 101001", got)
	}
	long := make([]float32, 130)
	long[64], long[129] = 1, 1
	s := signature(long)
	if len(s) != 3 || s[0] != 0 || s[1] != 1 || s[2] != 1<<1 {
		t.Errorf("130-dimension signature = %x", s)
	}
	if got := decodeSignature(nil, encodeSignature(s)); !slices.Equal(got, s) {
		t.Errorf("signature round trip = %x, want %x", got, s)
	}
	if d := hamming(s, []uint64{0, 0, 0}); d != 2 {
		t.Errorf("hamming = %d, want 2", d)
	}
}

func TestCosine(t *testing.T) {
	for _, tc := range []struct {
		a, b []float32
		want float64
	}{
		{[]float32{1, 0}, []float32{2, 0}, 1},
		{[]float32{1, 0}, []float32{0, 3}, 0},
		{[]float32{1, 1}, []float32{-1, -1}, -1},
		{[]float32{1, 0}, []float32{1, 1}, 1 / math.Sqrt2},
		{[]float32{0, 0}, []float32{1, 1}, 0},
		{[]float32{1}, []float32{1, 1}, 0},
	} {
		if got := Cosine(tc.a, tc.b); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Cosine(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestUsable(t *testing.T) {
	if usable(nil) || usable([]float32{1, float32(math.Inf(1))}) || usable([]float32{float32(math.NaN())}) || !usable([]float32{0, 1}) {
		t.Error("usable accepts an empty or non-finite vector, or refuses a finite one")
	}
}

// pairOf builds a mirrored pair from signatures, without a database.
func pairOf(sigs ...[]uint64) *pairSigs {
	p := &pairSigs{pos: map[uuid.UUID]int{}, words: len(sigs[0]), loaded: true}
	for _, s := range sigs {
		id := uuid.New()
		p.pos[id] = len(p.ids)
		p.ids = append(p.ids, id)
		p.sigs = append(p.sigs, s...)
	}
	return p
}

// nearest returns exactly the n entries of least Hamming distance, ties at
// the cut filled in order, and everything when there are n or fewer.
func TestNearestSelectsTheClosest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var sigs [][]uint64
	for range 500 {
		sigs = append(sigs, []uint64{r.Uint64(), r.Uint64()})
	}
	p := pairOf(sigs...)
	q := []uint64{r.Uint64(), r.Uint64()}
	got := p.nearest(q, 37)
	if len(got) != 37 {
		t.Fatalf("%d ids, want 37", len(got))
	}
	dists := make([]int, len(sigs))
	for i, s := range sigs {
		dists[i] = hamming(q, s)
	}
	sorted := slices.Clone(dists)
	slices.Sort(sorted)
	worst := 0
	for _, id := range got {
		worst = max(worst, dists[p.pos[id]])
	}
	if worst != sorted[36] {
		t.Errorf("farthest chosen is at %d, want the 37th distance %d", worst, sorted[36])
	}
	if all := pairOf(sigs[:5]...).nearest(q, 37); len(all) != 5 {
		t.Errorf("a pair of 5 gave %d candidates", len(all))
	}
}

func TestRemoveKeepsPositions(t *testing.T) {
	p := pairOf([]uint64{1}, []uint64{2}, []uint64{3}, []uint64{4})
	first, last := p.ids[0], p.ids[3]
	p.remove([]uuid.UUID{first, uuid.New()})
	if len(p.ids) != 3 || p.pos[last] != 0 || p.sigs[0] != 4 || len(p.sigs) != 3 {
		t.Fatalf("after removing the first: ids %v sigs %v pos %v", p.ids, p.sigs, p.pos)
	}
	for id, i := range p.pos {
		if p.ids[i] != id {
			t.Errorf("pos of %v is %d, which holds %v", id, i, p.ids[i])
		}
	}
	p.remove([]uuid.UUID{p.ids[2]})
	if len(p.ids) != 2 || len(p.pos) != 2 {
		t.Errorf("after removing the last: %v", p.ids)
	}
}

// Over budget, the pairs used least recently are dropped, never the one
// being searched.
func TestMirrorEvictsLeastRecentlyUsed(t *testing.T) {
	perPair := int64(10 * (8 + entryOverhead))
	m := newMirror(2*perPair + 1)
	keys := []pairKey{{model: "a"}, {model: "b"}, {model: "c"}}
	ten := make([][]uint64, 10)
	for i := range ten {
		ten[i] = []uint64{uint64(i)}
	}
	fill := func(k pairKey) {
		p, q := m.pair(k), pairOf(ten...)
		p.ids, p.sigs, p.pos, p.words = q.ids, q.sigs, q.pos, q.words
		m.account(k, p)
	}
	for i := range keys {
		keys[i].personality, keys[i].user = uuid.New(), uuid.New()
	}
	for _, k := range keys[:2] {
		fill(k)
	}
	m.pair(keys[0]) // a is used again, so b is now the oldest
	fill(keys[2])
	if _, ok := m.pairs[keys[1]]; ok || len(m.pairs) != 2 || m.used != 2*perPair {
		t.Errorf("after c: pairs %d, b kept %v, used %d; want a and c, %d", len(m.pairs), ok, m.used, 2*perPair)
	}
	m.drop(keys[0].personality, keys[0].user)
	if len(m.pairs) != 1 || m.used != perPair {
		t.Errorf("after dropping a: %d pairs, used %d", len(m.pairs), m.used)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 123456000, time.UTC)
	id := uuid.New()
	c := formatCursor(at, id)
	gotAt, gotID, err := parseCursor(c)
	if err != nil || !gotAt.Equal(at) || gotID != id {
		t.Errorf("parseCursor(%q) = %v %v %v", c, gotAt, gotID, err)
	}
	for _, bad := range []string{"", "zz." + id.String(), "1a", "1a.not-a-uuid"} {
		if _, _, err := parseCursor(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("parseCursor(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
