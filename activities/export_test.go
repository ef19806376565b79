package activities

import (
	"context"

	"github.com/google/uuid"
)

// CheckImageLimit exposes the image allowance Imagine checks, for the tests
// that race it.
func CheckImageLimit(ctx context.Context, a *Activities, discordUserID string) (ImageLimitResult, error) {
	return a.checkImageLimit(ctx, discordUserID)
}

// ReleaseHold exposes deleteHold, which Imagine runs once its usage row is
// written.
func ReleaseHold(ctx context.Context, a *Activities, holdID uuid.UUID) error {
	return a.deleteHold(ctx, holdID)
}

// AdoptEarlierPost exposes adoptEarlierPost as an activity for its test.
func (a *Activities) AdoptEarlierPost(ctx context.Context, in PostReplyInput) (bool, error) {
	return a.adoptEarlierPost(ctx, in)
}

// FinishKind exposes finishKind for its table test.
var FinishKind = finishKind

// CheckImage exposes the check of an image's fetched bytes.
func CheckImage(name string, data []byte) (string, error) { return checkImage(name, data) }

// UsageInQuery is the statement every limit check reads usage with, for
// its EXPLAIN test.
const UsageInQuery = usageInQuery
