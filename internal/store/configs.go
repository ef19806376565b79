package store

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/imageconfig"
	"github.com/tzurot/tzurot/ent/llmconfig"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/ent/userpersonalityconfig"
)

// Settings are a model and advanced parameters (an llmparams document as a
// map) to save; a zero Model or nil Params leaves that one as it is.
type Settings struct {
	Model  string
	Params map[string]any
}

// PersonalityConfig is the personality's own model settings, nil when it has
// none yet.
func (s *Store) PersonalityConfig(ctx context.Context, personalityID uuid.UUID) (*ent.LLMConfig, error) {
	return orNil(s.db.LLMConfig.Query().Where(llmconfig.PersonalityID(personalityID)).Only(ctx))
}

// ImageConfig is the personality's image settings (image_configs), nil when
// it has none.
func (s *Store) ImageConfig(ctx context.Context, personalityID uuid.UUID) (*ent.ImageConfig, error) {
	return orNil(s.db.ImageConfig.Query().Where(imageconfig.PersonalityID(personalityID)).Only(ctx))
}

// HasPersonalityConfig reports whether the personality has model settings.
func (s *Store) HasPersonalityConfig(ctx context.Context, personalityID uuid.UUID) (bool, error) {
	n, err := s.db.LLMConfig.Query().Where(llmconfig.PersonalityID(personalityID)).Count(ctx)
	return n > 0, err
}

// SetPersonalityConfig saves the personality's own settings: creating them
// (Model required) when it has none, changing the ones given otherwise.
func (s *Store) SetPersonalityConfig(ctx context.Context, personalityID uuid.UUID, exists bool, set Settings) error {
	if !exists {
		c := s.db.LLMConfig.Create().SetPersonalityID(personalityID).SetModel(set.Model)
		if set.Params != nil {
			c.SetAdvancedParameters(set.Params)
		}
		return c.Exec(ctx)
	}
	u := s.db.LLMConfig.Update().Where(llmconfig.PersonalityID(personalityID))
	if set.Model != "" {
		u.SetModel(set.Model)
	}
	if set.Params != nil {
		u.SetAdvancedParameters(set.Params)
	}
	_, err := u.Save(ctx)
	return err
}

// UserConfig is the user's own settings for the personality, nil when none.
func (s *Store) UserConfig(ctx context.Context, discordID string, personalityID uuid.UUID) (*ent.UserPersonalityConfig, error) {
	return orNil(s.db.UserPersonalityConfig.Query().Where(
		userpersonalityconfig.PersonalityID(personalityID), userpersonalityconfig.HasUserWith(user.DiscordID(discordID)),
	).Only(ctx))
}

// SetUserConfig saves the user's (id userID) own settings for the
// personality, changing only the ones given when they have some already.
func (s *Store) SetUserConfig(ctx context.Context, userID, personalityID uuid.UUID, set Settings) error {
	create := s.db.UserPersonalityConfig.Create().SetUserID(userID).SetPersonalityID(personalityID)
	if set.Model != "" {
		create.SetModel(set.Model)
	}
	if set.Params != nil {
		create.SetAdvancedParameters(set.Params)
	}
	return create.OnConflict(sql.ConflictColumns(userpersonalityconfig.FieldUserID, userpersonalityconfig.FieldPersonalityID)).
		Update(func(u *ent.UserPersonalityConfigUpsert) {
			if set.Model != "" {
				u.UpdateModel()
			}
			if set.Params != nil {
				u.UpdateAdvancedParameters()
			}
			u.SetUpdatedAt(time.Now())
		}).Exec(ctx)
}

// ResetUserConfig deletes the user's own settings for the personality,
// reporting how many rows went (0 or 1).
func (s *Store) ResetUserConfig(ctx context.Context, discordID string, personalityID uuid.UUID) (int, error) {
	return s.db.UserPersonalityConfig.Delete().Where(
		userpersonalityconfig.PersonalityID(personalityID), userpersonalityconfig.HasUserWith(user.DiscordID(discordID)),
	).Exec(ctx)
}
