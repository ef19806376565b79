package store

import (
	"context"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent/memory"
)

// HasMemory reports whether the memory with this id exists: the memory an
// exchange writes has an id derived from its request, so a retried write
// finds it and neither pays for its embedding nor stores it twice.
func (s *Store) HasMemory(ctx context.Context, id uuid.UUID) (bool, error) {
	return s.db.Memory.Query().Where(memory.ID(id)).Exist(ctx)
}
