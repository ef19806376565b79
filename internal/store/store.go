// Package store is the data access the bot and the activities share: users,
// personalities (found by internal/access's one rule), stored keys, the
// per-user and per-personality model settings, usage sums, conversation
// turns and deliveries. Callers speak in those terms; the ent predicates and
// the SQL they build, and the indexes those serve, live here.
//
// Methods return ent's entities. "Not found" is a nil entity or ok=false
// where the caller has an answer for it, ent's not-found error otherwise;
// any other error is the database's.
package store

import (
	"github.com/tzurot/tzurot/ent"
)

// Store reads and writes the bot's tables through one ent client.
type Store struct {
	db *ent.Client
}

// New is a Store over db.
func New(db *ent.Client) *Store { return &Store{db: db} }

// orNil is a lookup's row, or nil and no error when there is none; any other
// error is the database's.
func orNil[T any](row *T, err error) (*T, error) {
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return row, err
}
