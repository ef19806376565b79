package activities

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tzurot/tzurot/internal/shapes"
)

// ShapesChannel is the channel_id the imported shapes.inc chat history is
// filed under: the backup has no channel, and the column is varchar(20).
const ShapesChannel = "shapes-import"

// shapesDefaultModel is the model of an imported personality whose backup
// names none (or a malformed one).
const shapesDefaultModel = "openrouter/free"

// shapesImport imports a shapes.inc backup tree (args["dir"]): personalities,
// llm_configs with advanced_parameters, aliases, birthdays, voices, error
// messages and chat history. The cursor is the last personality name handled;
// every write is keyed by a natural key (name, personality, lower(alias)) and
// history is written once per personality, so a re-run changes nothing.
var shapesImport = dataMigration{
	tables: []string{"personalities", "llm_configs", "personality_aliases", "voice_configs", "conversation_history"},
	page:   shapesPage,
	verify: shapesVerify,
}

func loadBackup(args map[string]string) (*shapes.Backup, error) {
	dir := args["dir"]
	if dir == "" {
		return nil, badInput("shapes-import needs the backup directory: tzurot migrate data start shapes-import DIR")
	}
	b, err := shapes.Load(dir)
	if err != nil {
		return nil, badInput(fmt.Sprintf("cannot read the backup at %s: %v", dir, err))
	}
	return b, nil
}

func shapesPage(ctx context.Context, a *Activities, in pageInput) (pageResult, error) {
	b, err := loadBackup(in.Args)
	if err != nil {
		return pageResult{}, err
	}
	res := pageResult{Cursor: in.Cursor}
	if in.Cursor == "" {
		// Problems with files and fields are reported once, with the first page.
		for _, p := range b.Problems {
			res.Counts.Reported++
			res.Report = append(res.Report, p.String())
		}
	}
	i := sort.Search(len(b.Personalities), func(i int) bool { return b.Personalities[i].Name > in.Cursor })
	end := min(i+in.N, len(b.Personalities))
	for _, p := range b.Personalities[i:end] {
		res.Cursor = p.Name
		res.Counts.Read++
		changed, err := a.importShape(ctx, p, in.DryRun, func(line string) {
			res.Counts.Reported++
			res.Report = append(res.Report, p.SourcePath+": "+line)
		})
		if err != nil {
			return res, err
		}
		if changed {
			res.Counts.Changed++
		} else {
			res.Counts.Unchanged++
		}
	}
	res.Done = end >= len(b.Personalities)
	if res.Done && res.Cursor == in.Cursor && in.Cursor == "" {
		res.Cursor = "~" // an empty backup: make the cursor move so the run ends
	}
	return res, nil
}

// importShape writes one personality and everything hanging off it in one
// transaction, inserting only what is missing.
func (a *Activities) importShape(ctx context.Context, p shapes.Personality, dryRun bool, report func(string)) (bool, error) {
	tx, err := a.SQL.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	changed := false
	exec := func(q string, args ...any) (int64, error) {
		r, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		n, _ := r.RowsAffected()
		if n > 0 {
			changed = true
		}
		return n, nil
	}
	card := func(col string) any {
		if v, ok := p.Card[col]; ok && v != "" {
			return v
		}
		return nil
	}
	birth := func(v int) any {
		if v == 0 {
			return nil
		}
		return v
	}
	_, err = exec(`INSERT INTO personalities (name, display_name, avatar_url, system_prompt, character_info,
  personality_traits, personality_tone, personality_age, personality_appearance, personality_likes,
  personality_dislikes, conversational_goals, conversational_examples, error_message,
  birth_month, birth_day, birth_year, voice_enabled)
VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, ''), $6, $7, $8, $9, $10, $11, $12, $13, NULLIF($14, ''), $15, $16, $17, $18)
ON CONFLICT (name) DO NOTHING`,
		p.Name, p.DisplayName, p.AvatarURL, p.SystemPrompt, p.CharacterInfo,
		card("personality_traits"), card("personality_tone"), card("personality_age"), card("personality_appearance"),
		card("personality_likes"), card("personality_dislikes"), card("conversational_goals"), card("conversational_examples"),
		p.ErrorMessage, birth(p.BirthMonth), birth(p.BirthDay), birth(p.BirthYear), p.Voice != nil)
	if err != nil {
		return false, fmt.Errorf("import %s: %w", p.Name, err)
	}
	var id string
	if err := tx.QueryRowContext(ctx, `SELECT id FROM personalities WHERE name = $1`, p.Name).Scan(&id); err != nil {
		return false, err
	}
	model := p.Model
	if model == "" {
		model = shapesDefaultModel
	}
	params, err := json.Marshal(p.Params)
	if err != nil {
		return false, err
	}
	if _, err := exec(`INSERT INTO llm_configs (personality_id, model, advanced_parameters) VALUES ($1, $2, $3)
ON CONFLICT (personality_id) DO NOTHING`, id, model, string(params)); err != nil {
		return false, fmt.Errorf("import %s llm config: %w", p.Name, err)
	}
	for _, alias := range p.Aliases {
		n, err := exec(`INSERT INTO personality_aliases (personality_id, alias) VALUES ($1, $2) ON CONFLICT ((lower(alias))) DO NOTHING`, id, alias)
		if err != nil {
			return false, fmt.Errorf("import %s alias: %w", p.Name, err)
		}
		if n == 0 {
			var holder string
			_ = tx.QueryRowContext(ctx, `SELECT p.name FROM personality_aliases x JOIN personalities p ON p.id = x.personality_id WHERE lower(x.alias) = lower($1)`, alias).Scan(&holder)
			if holder != p.Name {
				report(fmt.Sprintf("aliases: %q is already %s's in the database; not added", alias, holder))
			}
		}
	}
	if v := p.Voice; v != nil {
		if _, err := exec(`INSERT INTO voice_configs (personality_id, voice_id, voice_model, stability, similarity, style, frequency)
VALUES ($1, $2, $3, COALESCE($4::numeric, 0.5), COALESCE($5::numeric, 0.75), COALESCE($6::numeric, 0), COALESCE($7::numeric, 0)) ON CONFLICT (personality_id) DO NOTHING`,
			id, v.VoiceID, v.Model, v.Stability, v.Similarity, v.Style, v.Frequency); err != nil {
			return false, fmt.Errorf("import %s voice: %w", p.Name, err)
		}
	}
	if len(p.History) > 0 {
		var have bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM conversation_history WHERE personality_id = $1 AND channel_id = $2)`, id, ShapesChannel).Scan(&have); err != nil {
			return false, err
		}
		if !have {
			var b strings.Builder
			args := []any{id, ShapesChannel}
			for i, t := range p.History {
				if i > 0 {
					b.WriteString(", ")
				}
				n := len(args)
				fmt.Fprintf(&b, "($1, $2, $%d, $%d, $%d)", n+1, n+2, n+3)
				args = append(args, t.Role, t.Content, t.At)
			}
			if _, err := exec(`INSERT INTO conversation_history (personality_id, channel_id, role, content, created_at) VALUES `+b.String(), args...); err != nil {
				return false, fmt.Errorf("import %s history: %w", p.Name, err)
			}
		}
	}
	if dryRun {
		return changed, nil // the rollback undoes it: a dry run writes nothing
	}
	return changed, tx.Commit()
}

// shapesVerify checks that every personality of the backup is in the
// database with its config, voice, aliases (or a recorded holder) and all of
// its history.
func shapesVerify(ctx context.Context, a *Activities, args map[string]string) ([]string, error) {
	b, err := loadBackup(args)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, p := range b.Personalities {
		var id string
		err := a.SQL.QueryRowContext(ctx, `SELECT id FROM personalities WHERE name = $1`, p.Name).Scan(&id)
		if err == sql.ErrNoRows {
			problems = append(problems, p.Name+" is missing")
			continue
		}
		if err != nil {
			return nil, err
		}
		var cfg, voice bool
		var turns, aliases int
		err = a.SQL.QueryRowContext(ctx, `SELECT
  EXISTS (SELECT 1 FROM llm_configs WHERE personality_id = $1),
  EXISTS (SELECT 1 FROM voice_configs WHERE personality_id = $1),
  (SELECT count(*) FROM conversation_history WHERE personality_id = $1 AND channel_id = $2),
  (SELECT count(*) FROM personality_aliases WHERE lower(alias) = ANY (SELECT lower(x) FROM unnest($3::text[]) x))`,
			id, ShapesChannel, pqArray(p.Aliases)).Scan(&cfg, &voice, &turns, &aliases)
		if err != nil {
			return nil, err
		}
		switch {
		case !cfg:
			problems = append(problems, p.Name+" has no llm config")
		case p.Voice != nil && !voice:
			problems = append(problems, p.Name+" lost its voice")
		case turns < len(p.History):
			problems = append(problems, fmt.Sprintf("%s has %d of its %d history turns", p.Name, turns, len(p.History)))
		case aliases < len(p.Aliases):
			problems = append(problems, fmt.Sprintf("%s: %d of its %d aliases are nobody's", p.Name, len(p.Aliases)-aliases, len(p.Aliases)))
		}
	}
	return problems, nil
}
