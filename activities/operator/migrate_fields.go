package operator

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// errorMessages moves custom_fields.errorMessage into personalities.error_message
// where that is still empty.
var errorMessages = dataMigration{
	tables: []string{"personalities"},
	writes: map[string][]string{"personalities": {"error_message"}},
	page: func(ctx context.Context, a *Activities, in pageInput) (pageResult, error) {
		res, ids, err := pagePersonalities(ctx, a, in, `custom_fields->>'errorMessage' <> '' AND error_message IS NULL`)
		if err != nil || in.DryRun || len(ids) == 0 {
			return res, err
		}
		_, err = a.SQL.ExecContext(ctx, `UPDATE personalities SET error_message = custom_fields->>'errorMessage', updated_at = now()
WHERE id = ANY($1::uuid[]) AND error_message IS NULL`, pq.Array(ids))
		return res, err
	},
	verify: func(ctx context.Context, a *Activities, _ map[string]string) ([]string, error) {
		return countProblems(ctx, a, map[string]string{
			"personalities with a custom_fields.errorMessage but no error_message": `SELECT count(*) FROM personalities WHERE custom_fields->>'errorMessage' <> '' AND error_message IS NULL`,
		})
	},
}

// pagePersonalities reads a page of personality ids and counts those matching
// needs (the ones the page changes).
func pagePersonalities(ctx context.Context, a *Activities, in pageInput, needs string) (pageResult, []string, error) {
	if in.Cursor == "" {
		in.Cursor = zeroUUID
	}
	rows, err := a.SQL.QueryContext(ctx, `SELECT id, (`+needs+`) FROM personalities WHERE id > $1 ORDER BY id LIMIT $2`, in.Cursor, in.N)
	if err != nil {
		return pageResult{}, nil, err
	}
	defer rows.Close()
	res := pageResult{Cursor: in.Cursor}
	var ids []string
	for rows.Next() {
		var id string
		var need sql.NullBool
		if err := rows.Scan(&id, &need); err != nil {
			return res, nil, err
		}
		res.Cursor = id
		res.Counts.Read++
		if need.Bool {
			res.Counts.Changed++
			ids = append(ids, id)
		} else {
			res.Counts.Unchanged++
		}
	}
	res.Done = res.Counts.Read < int64(in.N)
	return res, ids, rows.Err()
}

func countProblems(ctx context.Context, a *Activities, queries map[string]string) ([]string, error) {
	var problems []string
	for what, q := range queries {
		var n int64
		if err := a.SQL.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%d %s", n, what))
		}
	}
	return problems, nil
}

// customFields moves custom_fields.aliases into personality_aliases,
// custom_fields.birthday into birth_month/day/year, and the legacy
// voice_settings blob into voice_configs. Every write is keyed (lower(alias),
// personality_id), so a re-run inserts nothing new.
var customFields = dataMigration{
	tables: []string{"personalities", "personality_aliases", "voice_configs"},
	writes: map[string][]string{"personalities": {"birth_month", "birth_day", "birth_year"}},
	page:   customFieldsPage,
	verify: func(ctx context.Context, a *Activities, _ map[string]string) ([]string, error) {
		problems, err := birthdaysNotMoved(ctx, a)
		if err != nil {
			return nil, err
		}
		more, err := countProblems(ctx, a, map[string]string{
			"custom_fields aliases that no personality has": `SELECT count(*) FROM personalities p, jsonb_array_elements_text(CASE WHEN jsonb_typeof(p.custom_fields->'aliases') = 'array' THEN p.custom_fields->'aliases' ELSE '[]' END) a(alias)
WHERE btrim(a.alias) <> '' AND NOT EXISTS (SELECT 1 FROM personality_aliases x WHERE lower(x.alias) = lower(btrim(a.alias))) AND NOT EXISTS (SELECT 1 FROM personalities q WHERE lower(q.name) = lower(btrim(a.alias)))`,
			"voice settings with a voice_id but no voice_configs row": `SELECT count(*) FROM personalities p WHERE coalesce(p.voice_settings->>'voice_id', '') <> '' AND NOT EXISTS (SELECT 1 FROM voice_configs v WHERE v.personality_id = p.id)`,
		})
		return append(problems, more...), err
	},
}

// birthdaysNotMoved counts valid legacy birthdays that are not in the columns.
func birthdaysNotMoved(ctx context.Context, a *Activities) ([]string, error) {
	rows, err := a.SQL.QueryContext(ctx, `SELECT custom_fields->>'birthday' FROM personalities WHERE custom_fields ? 'birthday' AND birth_month IS NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var b sql.NullString
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		if _, _, _, ok := ParseBirthday(b.String); ok {
			n++
		}
	}
	if n > 0 {
		return []string{fmt.Sprintf("%d valid birthdays are not in birth_month/birth_day", n)}, rows.Err()
	}
	return nil, rows.Err()
}

func customFieldsPage(ctx context.Context, a *Activities, in pageInput) (pageResult, error) {
	if in.Cursor == "" {
		in.Cursor = zeroUUID
	}
	rows, err := a.SQL.QueryContext(ctx, `SELECT id, name, custom_fields, voice_settings, birth_month IS NOT NULL
FROM personalities WHERE id > $1 ORDER BY id LIMIT $2`, in.Cursor, in.N)
	if err != nil {
		return pageResult{}, err
	}
	type row struct {
		id, name      string
		custom, voice []byte
		hasBirthday   bool
	}
	var page []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.name, &r.custom, &r.voice, &r.hasBirthday); err != nil {
			rows.Close()
			return pageResult{}, err
		}
		page = append(page, r)
	}
	rows.Close()
	res := pageResult{Cursor: in.Cursor, Done: len(page) < in.N}
	for _, r := range page {
		res.Cursor = r.id
		res.Counts.Read++
		var custom struct {
			Aliases  []any `json:"aliases"`
			Birthday any   `json:"birthday"`
		}
		_ = json.Unmarshal(r.custom, &custom)
		changed := false
		report := func(format string, args ...any) {
			res.Counts.Reported++
			res.Report = append(res.Report, fmt.Sprintf("personality %s: ", r.name)+fmt.Sprintf(format, args...))
		}
		for _, raw := range custom.Aliases {
			alias, ok := raw.(string)
			alias = strings.TrimSpace(alias)
			if !ok || alias == "" {
				report("custom_fields.aliases holds %v, which is not a name; skipped", raw)
				continue
			}
			owner, ownerName, err := a.aliasOwner(ctx, alias)
			if err != nil {
				return res, err
			}
			switch {
			case owner == r.id:
			case owner != "":
				report("alias %q is already %s's; not added", alias, ownerName)
			case in.DryRun:
				changed = true
			default:
				n, err := a.insertAlias(ctx, r.id, alias)
				if err != nil {
					return res, err
				}
				changed = changed || n > 0
			}
		}
		if custom.Birthday != nil && !r.hasBirthday {
			s, _ := custom.Birthday.(string)
			m, d, y, ok := ParseBirthday(s)
			if !ok {
				report("custom_fields.birthday %q is not MM-DD or YYYY-MM-DD; not moved", fmt.Sprint(custom.Birthday))
			} else {
				changed = true
				if !in.DryRun {
					if _, err := a.SQL.ExecContext(ctx, `UPDATE personalities SET birth_month = $2, birth_day = $3, birth_year = NULLIF($4, 0), updated_at = now() WHERE id = $1 AND birth_month IS NULL`,
						r.id, m, d, y); err != nil {
						return res, err
					}
				}
			}
		}
		if len(r.voice) > 0 {
			ch, err := a.moveVoice(ctx, r.id, r.voice, in.DryRun, report)
			if err != nil {
				return res, err
			}
			changed = changed || ch
		}
		if changed {
			res.Counts.Changed++
		} else {
			res.Counts.Unchanged++
		}
	}
	return res, nil
}

// aliasOwner is the personality holding alias (any case), or "".
func (a *Activities) aliasOwner(ctx context.Context, alias string) (id, name string, err error) {
	err = a.SQL.QueryRowContext(ctx, `SELECT p.id, p.name FROM personality_aliases x JOIN personalities p ON p.id = x.personality_id
WHERE lower(x.alias) = lower($1)`, alias).Scan(&id, &name)
	if err == sql.ErrNoRows {
		return "", "", nil
	}
	return id, name, err
}

func (a *Activities) insertAlias(ctx context.Context, personalityID, alias string) (int64, error) {
	r, err := a.SQL.ExecContext(ctx, `INSERT INTO personality_aliases (personality_id, alias) VALUES ($1, $2) ON CONFLICT ((lower(alias))) DO NOTHING`, personalityID, alias)
	if err != nil {
		return 0, fmt.Errorf("insert alias: %w", err)
	}
	return r.RowsAffected()
}

func (a *Activities) moveVoice(ctx context.Context, personalityID string, blob []byte, dryRun bool, report func(string, ...any)) (bool, error) {
	var v struct {
		VoiceID    string   `json:"voice_id"`
		Model      string   `json:"model"`
		Stability  *float64 `json:"stability"`
		Similarity *float64 `json:"similarity"`
		Style      *float64 `json:"style"`
		Frequency  *float64 `json:"frequency"`
	}
	if err := json.Unmarshal(blob, &v); err != nil || v.VoiceID == "" {
		if err != nil {
			report("voice_settings is not a voice object (%v); not moved", err)
		}
		return false, nil
	}
	slider := func(name string, p *float64, def float64) float64 {
		if p == nil {
			return def
		}
		if *p < 0 || *p > 1 {
			report("voice_settings.%s %v is outside 0..1; the default %v is used", name, *p, def)
			return def
		}
		return *p
	}
	model := v.Model
	if model == "" {
		model = "eleven_flash_v2_5"
	}
	st, si, sy, fr := slider("stability", v.Stability, 0.5), slider("similarity", v.Similarity, 0.75), slider("style", v.Style, 0), slider("frequency", v.Frequency, 0)
	if dryRun {
		var exists bool
		err := a.SQL.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM voice_configs WHERE personality_id = $1)`, personalityID).Scan(&exists)
		return !exists, err
	}
	r, err := a.SQL.ExecContext(ctx, `INSERT INTO voice_configs (personality_id, voice_id, voice_model, stability, similarity, style, frequency)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (personality_id) DO NOTHING`, personalityID, v.VoiceID, model, st, si, sy, fr)
	if err != nil {
		return false, fmt.Errorf("insert voice config: %w", err)
	}
	n, _ := r.RowsAffected()
	return n > 0, nil
}

// ParseBirthday reads MM-DD or YYYY-MM-DD; year 0 means unknown. Impossible
// dates (02-30) are rejected; 02-29 without a year is allowed.
func ParseBirthday(s string) (month, day, year int, ok bool) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, "-")
	if len(parts) == 3 {
		y, err := strconv.Atoi(parts[0])
		if err != nil || len(parts[0]) != 4 || y < 1 {
			return 0, 0, 0, false
		}
		year, parts = y, parts[1:]
	}
	if len(parts) != 2 || len(parts[0]) != 2 || len(parts[1]) != 2 {
		return 0, 0, 0, false
	}
	m, err1 := strconv.Atoi(parts[0])
	d, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || m < 1 || m > 12 || d < 1 {
		return 0, 0, 0, false
	}
	checkYear := year
	if checkYear == 0 {
		checkYear = 2000 // a leap year, so 02-29 passes
	}
	t := time.Date(checkYear, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Month() != time.Month(m) || t.Day() != d {
		return 0, 0, 0, false
	}
	return m, d, year, true
}

// assignOwnership makes BOT_OWNER_DISCORD_ID's user a superuser and the owner
// of every personality that has none.
var assignOwnership = dataMigration{
	tables: []string{"users", "personalities"},
	writes: map[string][]string{"users": {"is_superuser"}, "personalities": {"owner_id"}},
	page: func(ctx context.Context, a *Activities, in pageInput) (pageResult, error) {
		owner := in.Args["owner"]
		if owner == "" {
			return pageResult{}, badInput("BOT_OWNER_DISCORD_ID is not set: set it to the operator's Discord id and start assign-ownership again")
		}
		res, ids, err := pagePersonalities(ctx, a, in, `owner_id IS NULL`)
		if err != nil || in.DryRun {
			return res, err
		}
		var uid string
		err = a.SQL.QueryRowContext(ctx, `INSERT INTO users (discord_id, is_superuser) VALUES ($1, true)
ON CONFLICT (discord_id) DO UPDATE SET is_superuser = true RETURNING id`, owner).Scan(&uid)
		if err != nil || len(ids) == 0 {
			return res, err
		}
		_, err = a.SQL.ExecContext(ctx, `UPDATE personalities SET owner_id = $1, updated_at = now() WHERE id = ANY($2::uuid[]) AND owner_id IS NULL`, uid, pq.Array(ids))
		return res, err
	},
	verify: func(ctx context.Context, a *Activities, args map[string]string) ([]string, error) {
		return countProblems(ctx, a, map[string]string{
			"personalities without an owner":        `SELECT count(*) FROM personalities WHERE owner_id IS NULL`,
			"owner accounts that are not superuser": fmt.Sprintf(`SELECT count(*) FROM users WHERE discord_id = %s AND NOT is_superuser`, pq.QuoteLiteral(args["owner"])),
		})
	},
}

func pqArray(s []string) any { return pq.Array(s) }
