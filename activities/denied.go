package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/internal/access"
)

// refuseDenied applies the bot's deny-list rule (bot/deny.go, README
// "Moderation") on the worker, so that a workflow started by hand cannot
// reach what the bot would refuse: a request from a denied guild is refused
// whoever speaks, a denied user's unless they are a superuser or the
// operator, whom the user list never stops. One indexed query
// (store.IsDenied). The error is ErrDenied, non-retryable, and names no one.
func (a *Activities) refuseDenied(ctx context.Context, s access.Speaker, guildID string) error {
	user, guild, err := a.store().IsDenied(ctx, s.DiscordID, guildID)
	switch {
	case err != nil:
		return err
	case guild:
		return temporal.NewNonRetryableApplicationError(
			"this server is on the deny list: nothing is answered there until a superuser runs /admin allow guild", ErrDenied, nil)
	case user && !s.Superuser && !s.Operator:
		return temporal.NewNonRetryableApplicationError(
			"this user is on the deny list: nothing is answered for them until a superuser runs /admin allow user", ErrDenied, nil)
	}
	return nil
}
