package store

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent/imagedescription"
)

// imageDescriptionTTL is how long a description is kept: longer than any
// retry of the reply it was made for.
const imageDescriptionTTL = 24 * time.Hour

// ImageDescription is the description stored under id; ok is false when
// there is none.
func (s *Store) ImageDescription(ctx context.Context, id uuid.UUID) (description string, ok bool, err error) {
	d, err := orNil(s.db.ImageDescription.Get(ctx, id))
	if err != nil || d == nil {
		return "", false, err
	}
	return d.Description, true, nil
}

// PutImageDescription stores the user's description under id (a second put
// of the same id leaves the first) and deletes the user's descriptions
// older than a day, on the (user_id, created_at) index.
func (s *Store) PutImageDescription(ctx context.Context, id, userID uuid.UUID, description string) error {
	err := s.db.ImageDescription.Create().SetID(id).SetUserID(userID).SetDescription(description).
		OnConflict(sql.ConflictColumns(imagedescription.FieldID)).DoNothing().Exec(ctx)
	if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
		return fmt.Errorf("store the image description: %w", err)
	}
	_, err = s.db.ImageDescription.Delete().Where(imagedescription.UserID(userID),
		imagedescription.CreatedAtLT(time.Now().Add(-imageDescriptionTTL))).Exec(ctx)
	if err != nil {
		return fmt.Errorf("prune old image descriptions: %w", err)
	}
	return nil
}
