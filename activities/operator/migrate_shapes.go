package operator

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/shapes"
)

// ShapesChannel is the channel_id the imported shapes.inc chat history is
// filed under: the backup has no channel, and the column is varchar(20).
const ShapesChannel = "shapes-import"

// shapesImport imports a shapes.inc backup tree (args["dir"]): personalities,
// llm_configs with advanced_parameters, aliases, birthdays, voices, error
// messages and chat history. The cursor is the last personality name handled.
//
// Every imported personality carries its import record in
// custom_fields.shapes_import (source: the shapes.inc id, or
// "username:<name>" when the backup has none; the file; the run). A
// personality is only ever written through that record: a re-run finds its
// own earlier import by the source and fills in only what is missing, so it
// changes nothing the second time. Names follow the one rule of
// internal/access, as /personality does (imported personalities belong to
// nobody, so every owned one is another owner's): a backup personality whose
// name or display name is reserved (access.IsReserved), or taken by another
// personality by access.Clash (a name or alias equal to another's name or
// alias, or to another owner's display name; a display name equal to another
// owner's name or alias), is reported by file and name and not imported,
// and nothing of the other personality is touched; verification then fails,
// naming it, since the backup personality was not imported as itself. An
// alias refused by the same rule is reported and left out.
//
// History is streamed from its file and written in statements of
// historyChunk rows inside the personality's transaction, so a history of
// any size imports in bounded memory, under PostgreSQL's 65,535-parameter
// limit, with a heartbeat after every chunk.
var shapesImport = dataMigration{
	tables: []string{"personalities", "llm_configs", "personality_aliases", "voice_configs", "conversation_history"},
	page:   shapesPage,
	verify: shapesVerify,
}

// historyChunk is how many history rows one INSERT writes: a handful of
// array parameters each, whatever the chunk's size.
const historyChunk = 1000

// shapesSource is the key an import record is found by.
func shapesSource(p shapes.Personality) string {
	if p.ShapeID != "" {
		return p.ShapeID
	}
	return "username:" + p.Name
}

func loadBackup(args map[string]string) (*shapes.Backup, error) {
	dir := args["dir"]
	if dir == "" {
		return nil, badInput("shapes-import needs the backup directory: tzurot migrate data start shapes-import DIR")
	}
	// Histories are streamed one personality at a time, not loaded here.
	b, err := shapes.LoadWith(dir, shapes.LoadOptions{SkipHistory: true})
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
			res.Findings = append(res.Findings, problemFinding(p))
		}
	}
	i := sort.Search(len(b.Personalities), func(i int) bool { return b.Personalities[i].Name > in.Cursor })
	end := min(i+in.N, len(b.Personalities))
	for _, p := range b.Personalities[i:end] {
		res.Cursor = p.Name
		res.Counts.Read++
		changed, err := a.importShape(ctx, in.Args["dir"], p, in, func(f Finding) {
			res.Counts.Reported++
			res.Findings = append(res.Findings, f)
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

// shapesOwnRow finds the personality an earlier run imported p as: the row
// whose import record has p's source. ok is false when there is none.
func shapesOwnRow(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, p shapes.Personality) (id string, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT id FROM personalities WHERE custom_fields->'shapes_import'->>'source' = $1 ORDER BY created_at LIMIT 1`,
		shapesSource(p)).Scan(&id)
	if err == sql.ErrNoRows {
		return "", false, nil
	}
	return id, err == nil, err
}

// shapesEnt is an ent client over tx, so access.Clash reads what the
// personality's own transaction has written so far.
func shapesEnt(tx *sql.Tx) *ent.Client {
	return ent.NewClient(ent.Driver(entsql.NewDriver(dialect.Postgres, entsql.Conn{ExecQuerier: tx})))
}

// shapesTaken says why term may not be a name of the kind given (access.ByName,
// ByAlias or ByDisplayName) of the imported personality self (uuid.Nil while
// it is not in the database yet), by the one rule of internal/access, as the
// bot's /personality applies it: a reserved word (access.IsReserved) is
// refused (SevRefused); a term access.Clash finds held by another
// personality is a collision (SevCollision), holder names the holder and how
// it holds term. Imported personalities belong to nobody (system ones), so
// every owned personality is another owner's: a backup name or alias never
// takes over another owner's display name. what is "" when term is free.
func shapesTaken(ctx context.Context, db *ent.Client, kind access.Kind, term string, self uuid.UUID) (sev Severity, what string, err error) {
	if access.IsReserved(term) {
		return SevRefused, "a reserved word (@everyone and @here are Discord's own mentions; no name may be or begin with them)", nil
	}
	held, err := access.Clash(ctx, db, kind, term, nil, self)
	if err != nil || held == nil {
		return SevCollision, "", err
	}
	return SevCollision, shapesHolder(held, term, kind), nil
}

// shapesHolder says how held holds term, for a report line.
func shapesHolder(held *ent.Personality, term string, kind access.Kind) string {
	t := access.Normalize(term)
	switch {
	case strings.ToLower(held.Name) == t && kind != access.ByName:
		return "the name of the personality " + held.Name + " in the database"
	case strings.ToLower(held.Name) == t:
		return "the name of a personality already in the database"
	}
	for _, a := range held.Edges.Aliases {
		if access.Normalize(a.Alias) == t {
			return "an alias of " + held.Name + ", already in the database"
		}
	}
	if held.DisplayName != nil && access.Normalize(*held.DisplayName) == t {
		return "the display name of " + held.Name + ", already in the database"
	}
	return "too close to a name of " + held.Name + " (already in the database) for mentions to tell them apart"
}

// shapesConflict is why a backup personality is not imported as a new
// personality: its name ("username") or display name ("name") is reserved
// or taken (shapesTaken).
type shapesConflict struct {
	sev   Severity
	field string // the backup's field: username or name
	term  string
	what  string // "" when both are free
}

// shapesConflictOf checks p's name, then its display name.
func shapesConflictOf(ctx context.Context, db *ent.Client, p shapes.Personality) (shapesConflict, error) {
	sev, what, err := shapesTaken(ctx, db, access.ByName, p.Name, uuid.Nil)
	if err != nil || what != "" || strings.TrimSpace(p.DisplayName) == "" {
		return shapesConflict{sev, "username", p.Name, what}, err
	}
	sev, what, err = shapesTaken(ctx, db, access.ByDisplayName, p.DisplayName, uuid.Nil)
	return shapesConflict{sev, "name", p.DisplayName, what}, err
}

// text is the report line, naming the file and the value.
func (c shapesConflict) text(p shapes.Personality) string {
	if c.sev == SevRefused {
		return fmt.Sprintf("%s: %s: %q is %s; the personality is not imported (rename it in the backup and run the import again)",
			p.SourcePath, c.field, c.term, c.what)
	}
	return fmt.Sprintf("%s: %s: %q is %s that this import did not create; the personality is not imported and that one is left as it is (rename one of them and run the import again)",
		p.SourcePath, c.field, c.term, c.what)
}

// importShape writes one personality and everything hanging off it in one
// transaction, inserting only what is missing, through its import record.
func (a *Activities) importShape(ctx context.Context, root string, p shapes.Personality, in pageInput, report func(Finding)) (bool, error) {
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
	id, own, err := shapesOwnRow(ctx, tx, p)
	if err != nil {
		return false, fmt.Errorf("import %s: %w", p.Name, err)
	}
	if !own {
		c, err := shapesConflictOf(ctx, shapesEnt(tx), p)
		if err != nil {
			return false, fmt.Errorf("import %s: %w", p.Name, err)
		}
		if c.what != "" {
			report(Finding{c.sev, c.text(p)})
			return false, nil
		}
		record, err := json.Marshal(map[string]any{"shapes_import": map[string]string{
			"source": shapesSource(p), "shape_id": p.ShapeID, "path": p.SourcePath, "run_id": in.RunID.String(),
		}})
		if err != nil {
			return false, err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO personalities (name, display_name, avatar_url, system_prompt, character_info,
  personality_traits, personality_tone, personality_age, personality_appearance, personality_likes,
  personality_dislikes, conversational_goals, conversational_examples, error_message,
  birth_month, birth_day, birth_year, voice_enabled, custom_fields)
VALUES ($1, NULLIF($2, ''), NULLIF($3, ''), NULLIF($4, ''), NULLIF($5, ''), $6, $7, $8, $9, $10, $11, $12, $13, NULLIF($14, ''), $15, $16, $17, $18, $19)
ON CONFLICT (name) DO NOTHING RETURNING id`,
			p.Name, p.DisplayName, p.AvatarURL, p.SystemPrompt, p.CharacterInfo,
			card("personality_traits"), card("personality_tone"), card("personality_age"), card("personality_appearance"),
			card("personality_likes"), card("personality_dislikes"), card("conversational_goals"), card("conversational_examples"),
			p.ErrorMessage, birth(p.BirthMonth), birth(p.BirthDay), birth(p.BirthYear), p.Voice != nil, string(record)).Scan(&id)
		if err == sql.ErrNoRows {
			// Taken between the look-up and the insert.
			c := shapesConflict{SevCollision, "username", p.Name, "the name of a personality already in the database"}
			report(Finding{c.sev, c.text(p)})
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("import %s: %w", p.Name, err)
		}
		changed = true
	}
	model := p.Model
	if model == "" {
		// The backup names no model, or a malformed one: the free router,
		// as for a new personality.
		model = provider.FreeModel
	}
	params, err := json.Marshal(p.Params)
	if err != nil {
		return false, err
	}
	if _, err := exec(`INSERT INTO llm_configs (personality_id, model, advanced_parameters) VALUES ($1, $2, $3)
ON CONFLICT (personality_id) DO NOTHING`, id, model, string(params)); err != nil {
		return false, fmt.Errorf("import %s llm config: %w", p.Name, err)
	}
	edb := shapesEnt(tx)
	for _, alias := range p.Aliases {
		// Names, aliases and display names share one namespace for
		// mentions: an alias reserved or taken by the rule of
		// access.Clash is reported and left out.
		sev, what, err := shapesTaken(ctx, edb, access.ByAlias, alias, uuid.MustParse(id))
		if err != nil {
			return false, fmt.Errorf("import %s alias: %w", p.Name, err)
		}
		if what != "" {
			report(Finding{sev, fmt.Sprintf("%s: aliases: %q is %s; not added", p.SourcePath, alias, what)})
			continue
		}
		n, err := exec(`INSERT INTO personality_aliases (personality_id, alias) VALUES ($1, $2) ON CONFLICT ((lower(alias))) DO NOTHING`, id, alias)
		if err != nil {
			return false, fmt.Errorf("import %s alias: %w", p.Name, err)
		}
		if n == 0 {
			var holder, holderID string
			_ = tx.QueryRowContext(ctx, `SELECT p.name, p.id FROM personality_aliases x JOIN personalities p ON p.id = x.personality_id WHERE lower(x.alias) = lower($1)`, alias).Scan(&holder, &holderID)
			if holderID != id {
				report(Finding{SevCollision, fmt.Sprintf("%s: aliases: %q is already %s's in the database; not added", p.SourcePath, alias, holder)})
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
	if p.HistoryPath != "" {
		wrote, err := a.importHistory(ctx, tx, root, p, id, in, report)
		if err != nil {
			return false, fmt.Errorf("import %s history: %w", p.Name, err)
		}
		changed = changed || wrote
	}
	if in.DryRun {
		return changed, nil // the rollback undoes it: a dry run writes nothing
	}
	return changed, tx.Commit()
}

// importHistory streams p's history file into conversation_history, in
// statements of historyChunk rows, unless this personality already has its
// imported history (history is imported whole, once). The file's problems
// are reported either way, so every run's report is complete. A dry run
// reads and counts but writes nothing.
func (a *Activities) importHistory(ctx context.Context, tx *sql.Tx, root string, p shapes.Personality, id string, in pageInput, report func(Finding)) (bool, error) {
	var have bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM conversation_history WHERE personality_id = $1 AND channel_id = $2)`, id, ShapesChannel).Scan(&have); err != nil {
		return false, err
	}
	var roles, contents, times []string
	var done int64
	flush := func() error {
		if len(roles) == 0 {
			return nil
		}
		if !have && !in.DryRun {
			if _, err := tx.ExecContext(ctx, `INSERT INTO conversation_history (personality_id, channel_id, role, content, created_at)
SELECT $1, $2, u.role, u.content, u.at FROM unnest($3::text[], $4::text[], $5::timestamptz[]) AS u(role, content, at)`,
				id, ShapesChannel, pqArray(roles), pqArray(contents), pqArray(times)); err != nil {
				return err
			}
		}
		done += int64(len(roles))
		roles, contents, times = roles[:0], contents[:0], times[:0]
		switch {
		case have:
		case in.DryRun:
			in.Progress.say("%s: %d history turns read (dry run)", p.Name, done)
		default:
			in.Progress.say("%s: %d history turns written", p.Name, done)
		}
		return ctx.Err()
	}
	problems, err := shapes.StreamHistory(root, p, func(t shapes.Turn) error {
		roles = append(roles, t.Role)
		contents = append(contents, t.Content)
		times = append(times, t.At.Format(time.RFC3339Nano))
		if len(roles) >= historyChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return false, err
	}
	for _, pr := range problems {
		report(problemFinding(pr))
	}
	return !have && done > 0, nil
}

// countHistory counts the turns StreamHistory yields for p.
func countHistory(root string, p shapes.Personality) (int, error) {
	n := 0
	_, err := shapes.StreamHistory(root, p, func(shapes.Turn) error { n++; return nil })
	return n, err
}

// shapesVerify checks that every personality of the backup was imported as
// itself — the row carrying its import record, not merely a row of the same
// name — with its config, voice, aliases (or a recorded holder) and all of
// its history.
func shapesVerify(ctx context.Context, a *Activities, args map[string]string) ([]string, error) {
	b, err := loadBackup(args)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, p := range b.Personalities {
		id, own, err := shapesOwnRow(ctx, a.SQL, p)
		if err != nil {
			return nil, err
		}
		if !own {
			c, err := shapesConflictOf(ctx, a.DB, p)
			if err != nil {
				return nil, err
			}
			if c.what != "" {
				label := "username"
				if c.field == "name" {
					label = "display name (name)"
				}
				problems = append(problems, fmt.Sprintf("%s: %q was not imported: its %s %q is %s", p.SourcePath, p.Name, label, c.term, c.what))
			} else {
				problems = append(problems, fmt.Sprintf("%s: %q is missing", p.SourcePath, p.Name))
			}
			continue
		}
		want, err := countHistory(args["dir"], p)
		if err != nil {
			return nil, err
		}
		var cfg, voice bool
		var turns int
		err = a.SQL.QueryRowContext(ctx, `SELECT
  EXISTS (SELECT 1 FROM llm_configs WHERE personality_id = $1),
  EXISTS (SELECT 1 FROM voice_configs WHERE personality_id = $1),
  (SELECT count(*) FROM conversation_history WHERE personality_id = $1 AND channel_id = $2)`,
			id, ShapesChannel).Scan(&cfg, &voice, &turns)
		if err != nil {
			return nil, err
		}
		// An alias is accounted for when it is this personality's, or when
		// the rule refuses it (reserved, or held by another: reported).
		aliases := 0
		for _, alias := range p.Aliases {
			var mine bool
			if err := a.SQL.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM personality_aliases WHERE personality_id = $1 AND lower(alias) = lower($2))`,
				id, alias).Scan(&mine); err != nil {
				return nil, err
			}
			if !mine {
				_, what, err := shapesTaken(ctx, a.DB, access.ByAlias, alias, uuid.MustParse(id))
				if err != nil {
					return nil, err
				}
				mine = what != ""
			}
			if mine {
				aliases++
			}
		}
		switch {
		case !cfg:
			problems = append(problems, p.Name+" has no llm config")
		case p.Voice != nil && !voice:
			problems = append(problems, p.Name+" lost its voice")
		case turns < want:
			problems = append(problems, fmt.Sprintf("%s has %d of its %d history turns", p.Name, turns, want))
		case aliases < len(p.Aliases):
			problems = append(problems, fmt.Sprintf("%s: %d of its %d aliases are neither its own nor refused by the naming rule", p.Name, len(p.Aliases)-aliases, len(p.Aliases)))
		}
	}
	return problems, nil
}
