package store

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/ent/personalityalias"
	"github.com/tzurot/tzurot/ent/predicate"
	"github.com/tzurot/tzurot/ent/voiceconfig"
	"github.com/tzurot/tzurot/internal/access"
)

// ErrNameTaken is returned by CreatePersonality when the name was taken
// between the check (access.Clash) and the insert.
var ErrNameTaken = errors.New("the personality name is already taken: choose another")

// Resolve is the personality ref (an id, a name, an alias or a display
// name) means for sp, by internal/access's one rule (access.Resolve);
// access.ErrNotFound when sp may use none called that.
func (s *Store) Resolve(ctx context.Context, sp access.Speaker, ref string) (access.Match, error) {
	return access.Resolve(ctx, s.db, sp, ref)
}

// Usable is the personality id, read afresh, when sp may use it
// (access.Speaker.CanUse); ok is false when it is gone or sp may not.
func (s *Store) Usable(ctx context.Context, sp access.Speaker, id uuid.UUID) (*ent.Personality, bool) {
	p, err := s.db.Personality.Get(ctx, id)
	if err != nil || !sp.CanUse(p) {
		return nil, false
	}
	return p, true
}

// Clash is the personality term would collide with as a new kind of name of
// self (uuid.Nil: one being created) owned by owner, nil when it is free
// (access.Clash, the rule).
func (s *Store) Clash(ctx context.Context, kind access.Kind, term string, owner *uuid.UUID, self uuid.UUID) (*ent.Personality, error) {
	return access.Clash(ctx, s.db, kind, term, owner, self)
}

// MentionIndex is every personality with its aliases and its model settings
// (Edges.LlmConfig, for its per-message mention limit), indexed to find
// mentions in (access.NewIndex). It reads the tables whole: callers cache it.
func (s *Store) MentionIndex(ctx context.Context) (*access.Index, error) {
	ps, err := s.db.Personality.Query().WithAliases().WithLlmConfig().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load personalities: %w", err)
	}
	return access.NewIndex(ps), nil
}

// PersonalityWithModel is the personality id with its model settings
// (Edges.LlmConfig, nil when it has none), read afresh for a reply; ent's
// not-found error when it is gone. Who may use it is the caller's check
// (Resolve, Usable): this reads by id alone.
func (s *Store) PersonalityWithModel(ctx context.Context, id uuid.UUID) (*ent.Personality, error) {
	return s.db.Personality.Query().Where(personality.ID(id)).WithLlmConfig().Only(ctx)
}

// PersonalityWithVoice is the personality id with its voice settings
// (Edges.VoiceConfig, nil when it has none); ent's not-found error when it
// is gone. Who may use it is the caller's check, as for PersonalityWithModel.
func (s *Store) PersonalityWithVoice(ctx context.Context, id uuid.UUID) (*ent.Personality, error) {
	return s.db.Personality.Query().Where(personality.ID(id)).WithVoiceConfig().Only(ctx)
}

// VoiceConfig is the personality id's voice settings, nil when it has none:
// for a caller that already holds the personality's row (Resolve's match).
func (s *Store) VoiceConfig(ctx context.Context, personalityID uuid.UUID) (*ent.VoiceConfig, error) {
	return orNil(s.db.VoiceConfig.Query().Where(voiceconfig.PersonalityID(personalityID)).Only(ctx))
}

// PersonalityDetails is the personality with its owner, its model settings
// and its aliases (alphabetical), for showing it whole.
func (s *Store) PersonalityDetails(ctx context.Context, id uuid.UUID) (*ent.Personality, error) {
	return s.db.Personality.Query().Where(personality.ID(id)).
		WithOwner().WithLlmConfig().
		WithAliases(func(q *ent.PersonalityAliasQuery) { q.Order(ent.Asc(personalityalias.FieldAlias)) }).
		Only(ctx)
}

// NewPersonality is what CreatePersonality stores: a public personality of
// Owner answering with Model.
type NewPersonality struct {
	Name, DisplayName, Model string
	Owner                    uuid.UUID
	Fields                   PersonalityFields
}

// PersonalityFields are the optional settings create and edit share; nil
// leaves a setting as it is.
type PersonalityFields struct {
	SystemPrompt, AvatarURL, ErrorMessage *string
}

// CreatePersonality stores the personality and its model settings in one
// transaction. ErrNameTaken when the name was taken since it was checked.
func (s *Store) CreatePersonality(ctx context.Context, n NewPersonality) (*ent.Personality, error) {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, err
	}
	p, err := tx.Personality.Create().SetName(n.Name).SetDisplayName(n.DisplayName).SetOwnerID(n.Owner).SetIsPublic(true).
		SetNillableSystemPrompt(n.Fields.SystemPrompt).SetNillableAvatarURL(n.Fields.AvatarURL).SetNillableErrorMessage(n.Fields.ErrorMessage).
		Save(ctx)
	if err == nil {
		err = tx.LLMConfig.Create().SetPersonalityID(p.ID).SetModel(n.Model).Exec(ctx)
	}
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			return nil, ErrNameTaken
		}
		return nil, err
	}
	return p, tx.Commit()
}

// PersonalityChange is an edit: nil fields are left as they are.
type PersonalityChange struct {
	PersonalityFields
	DisplayName *string
	Public      *bool
	// Streaming is whether its replies are posted as they are written
	// (personalities.streaming; /config personality streaming).
	Streaming *bool
}

// UpdatePersonality applies the change and returns the personality as saved.
func (s *Store) UpdatePersonality(ctx context.Context, id uuid.UUID, c PersonalityChange) (*ent.Personality, error) {
	return s.db.Personality.UpdateOneID(id).
		SetNillableSystemPrompt(c.SystemPrompt).SetNillableAvatarURL(c.AvatarURL).SetNillableErrorMessage(c.ErrorMessage).
		SetNillableDisplayName(c.DisplayName).SetNillableIsPublic(c.Public).SetNillableStreaming(c.Streaming).
		Save(ctx)
}

// DeletePersonality deletes it; its settings and aliases go with it (the
// foreign keys cascade).
func (s *Store) DeletePersonality(ctx context.Context, id uuid.UUID) error {
	return s.db.Personality.DeleteOneID(id).Exec(ctx)
}

// Aliases are the personality's aliases, alphabetical.
func (s *Store) Aliases(ctx context.Context, id uuid.UUID) ([]*ent.PersonalityAlias, error) {
	return s.db.PersonalityAlias.Query().Where(personalityalias.PersonalityID(id)).
		Order(ent.Asc(personalityalias.FieldAlias)).All(ctx)
}

// Alias is the personality's alias equal to alias in any case, as the unique
// index on lower(alias) compares; nil when it has none.
func (s *Store) Alias(ctx context.Context, id uuid.UUID, alias string) (*ent.PersonalityAlias, error) {
	return orNil(s.db.PersonalityAlias.Query().Where(personalityalias.PersonalityID(id),
		predicate.PersonalityAlias(access.LowerEquals(personalityalias.FieldAlias, alias))).First(ctx))
}

// AddAlias stores the alias; ent's constraint error when another of the
// same letters was added since it was checked.
func (s *Store) AddAlias(ctx context.Context, id uuid.UUID, alias string) error {
	return s.db.PersonalityAlias.Create().SetPersonalityID(id).SetAlias(alias).Exec(ctx)
}

// RemoveAlias deletes the personality's alias equal to alias in any case,
// reporting how many rows went (0 or 1).
func (s *Store) RemoveAlias(ctx context.Context, id uuid.UUID, alias string) (int, error) {
	return s.db.PersonalityAlias.Delete().Where(
		personalityalias.PersonalityID(id),
		predicate.PersonalityAlias(access.LowerEquals(personalityalias.FieldAlias, alias)),
	).Exec(ctx)
}

// Suggest is at most limit personalities, with their aliases, that sp may
// see (public, their own, or all for the privileged) and whose name, display
// name or an alias matches typed (lower case): contains it when it is three
// characters or more, starts with it when shorter (a text of one or two
// characters has no trigram to look up), every personality for "". The
// filter and the limit are in SQL, ordered what starts with typed first,
// then sp's own, then by name (for "", suggestAll). The matches are looked up in the trigram indexes of
// migration 0023 (aliases first, then personalities by name, display name
// or the ids of at most limit of those aliases, which PostgreSQL ORs in a
// bitmap); the sort reads only the matches, which for a one- or
// two-character prefix shared by many personalities can be many.
func (s *Store) Suggest(ctx context.Context, sp access.Speaker, typed string, limit int) ([]*ent.Personality, error) {
	q := s.db.Personality.Query().WithAliases().Limit(limit)
	if !sp.Privileged() {
		if sp.UserID != uuid.Nil {
			q.Where(personality.Or(personality.IsPublic(true), personality.OwnerID(sp.UserID)))
		} else {
			q.Where(personality.IsPublic(true))
		}
	}
	if typed == "" {
		return s.suggestAll(ctx, sp, limit)
	}
	prefix := access.EscapeLike(typed) + "%"
	pattern := prefix
	if utf8.RuneCountInString(typed) >= 3 {
		pattern = "%" + prefix
	}
	as, err := s.db.PersonalityAlias.Query().
		Where(predicate.PersonalityAlias(access.LowerLike(personalityalias.FieldAlias, pattern))).
		Limit(limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up aliases like %q: %w", typed, err)
	}
	ids := make([]uuid.UUID, len(as))
	for i, a := range as {
		ids[i] = a.PersonalityID
	}
	match := []predicate.Personality{
		predicate.Personality(access.LowerLike(personality.FieldName, pattern)),
		predicate.Personality(access.LowerLike(personality.FieldDisplayName, pattern)),
	}
	if len(ids) > 0 {
		match = append(match, personality.IDIn(ids...))
	}
	q.Where(personality.Or(match...))
	q.Order(func(s *entsql.Selector) {
		// A predicate, not OrderExprFunc, which drops arguments.
		s.OrderExpr(entsql.P(func(b *entsql.Builder) {
			b.WriteString("(lower(").Ident(s.C(personality.FieldName)).WriteString(") LIKE ").Arg(prefix).
				WriteString(` ESCAPE '\' OR coalesce(lower(`).Ident(s.C(personality.FieldDisplayName)).WriteString(") LIKE ").Arg(prefix).
				WriteString(` ESCAPE '\', false)) DESC`)
		}))
		if sp.UserID != uuid.Nil {
			s.OrderExpr(entsql.P(func(b *entsql.Builder) {
				b.WriteString("coalesce(").Ident(s.C(personality.FieldOwnerID)).WriteString(" = ").Arg(sp.UserID).WriteString(", false) DESC")
			}))
		}
		s.OrderBy(s.C(personality.FieldName))
	})
	return q.All(ctx)
}

// AliasesLike are at most limit of the personality's aliases that contain
// typed (lower case; "" matches all), alphabetical: filtered and limited in
// SQL, on the personality_id index (a personality has few aliases).
func (s *Store) AliasesLike(ctx context.Context, id uuid.UUID, typed string, limit int) ([]*ent.PersonalityAlias, error) {
	return s.db.PersonalityAlias.Query().Where(personalityalias.PersonalityID(id),
		predicate.PersonalityAlias(access.LowerLike(personalityalias.FieldAlias, "%"+access.EscapeLike(typed)+"%"))).
		Order(ent.Asc(personalityalias.FieldAlias)).Limit(limit).All(ctx)
}

// suggestAll is Suggest for nothing typed: sp's own personalities by name,
// then the others sp may see by name, at most limit in all. Two statements,
// each read in order from an index ((owner_id, name) of migration 0023, then
// the name's) and stopped at the limit, where one ORDER BY "own first"
// would sort every personality.
func (s *Store) suggestAll(ctx context.Context, sp access.Speaker, limit int) ([]*ent.Personality, error) {
	var own []*ent.Personality
	rest := s.db.Personality.Query().WithAliases().Order(ent.Asc(personality.FieldName))
	if sp.UserID != uuid.Nil {
		var err error
		own, err = s.db.Personality.Query().WithAliases().Where(personality.OwnerID(sp.UserID)).
			Order(ent.Asc(personality.FieldName)).Limit(limit).All(ctx)
		if err != nil || len(own) == limit {
			return own, err
		}
		rest.Where(personality.Or(personality.OwnerIDIsNil(), personality.OwnerIDNEQ(sp.UserID)))
	}
	if !sp.Privileged() {
		rest.Where(personality.IsPublic(true))
	}
	others, err := rest.Limit(limit - len(own)).All(ctx)
	return append(own, others...), err
}
