package activities

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"github.com/tzurot/tzurot/internal/llmparams"
)

const zeroUUID = "00000000-0000-0000-0000-000000000000"

// llmConfigJSONB moves the legacy llm_configs columns into
// advanced_parameters under llmparams' names. A value llmparams rejects is
// reported by row and column and left in its legacy column; keys already in
// advanced_parameters win, so a re-run changes nothing.
var llmConfigJSONB = dataMigration{
	tables: []string{"llm_configs"},
	page:   llmConfigPage,
	verify: llmConfigVerify,
}

// legacyLLMColumns map the legacy columns to llmparams keys.
var legacyLLMColumns = []string{"top_k", "frequency_penalty", "presence_penalty", "repetition_penalty", "stop", "seed", "logit_bias", "response_format"}

// legacyNotCarried are legacy columns with no request parameter: stream mode
// is the bot's choice, and a system fingerprint is a response field.
var legacyNotCarried = []string{"stream_response", "system_fingerprint"}

func llmConfigPage(ctx context.Context, a *Activities, in pageInput) (pageResult, error) {
	if in.Cursor == "" {
		in.Cursor = zeroUUID
	}
	rows, err := a.SQL.QueryContext(ctx, `
SELECT id, top_k, frequency_penalty, presence_penalty, repetition_penalty, stop, seed,
       logit_bias, response_format, stream_response, system_fingerprint, advanced_parameters
FROM llm_configs WHERE id > $1 ORDER BY id LIMIT $2`, in.Cursor, in.N)
	if err != nil {
		return pageResult{}, fmt.Errorf("read llm_configs: %w", err)
	}
	defer rows.Close()
	res := pageResult{Cursor: in.Cursor}
	var ids, docs []string
	for rows.Next() {
		var (
			id                         string
			topK, seed                 sql.NullInt64
			freq, pres, rep            sql.NullFloat64
			stop                       pq.StringArray
			logitBias, respFormat, adv []byte
			stream                     sql.NullBool
			fingerprint                sql.NullString
		)
		if err := rows.Scan(&id, &topK, &freq, &pres, &rep, &stop, &seed, &logitBias, &respFormat, &stream, &fingerprint, &adv); err != nil {
			return pageResult{}, err
		}
		res.Cursor = id
		res.Counts.Read++
		current := map[string]any{}
		_ = json.Unmarshal(adv, &current)
		legacy := map[string]any{}
		if topK.Valid {
			legacy["top_k"] = topK.Int64
		}
		if freq.Valid {
			legacy["frequency_penalty"] = freq.Float64
		}
		if pres.Valid {
			legacy["presence_penalty"] = pres.Float64
		}
		if rep.Valid {
			legacy["repetition_penalty"] = rep.Float64
		}
		if stop != nil {
			legacy["stop"] = []string(stop)
		}
		if seed.Valid {
			legacy["seed"] = seed.Int64
		}
		if len(logitBias) > 0 {
			var v any
			if json.Unmarshal(logitBias, &v) == nil {
				legacy["logit_bias"] = v
			}
		}
		if len(respFormat) > 0 {
			var v any
			if json.Unmarshal(respFormat, &v) == nil {
				legacy["response_format"] = v
			}
		}
		if stream.Valid || fingerprint.Valid {
			// Counted, not reported per row: these have nowhere to go.
			res.Counts.Reported++
		}
		changed := false
		for _, key := range legacyLLMColumns {
			v, ok := legacy[key]
			if !ok {
				continue
			}
			if _, exists := current[key]; exists {
				continue
			}
			if err := validParam(key, v); err != nil {
				res.Counts.Reported++
				res.Report = append(res.Report, fmt.Sprintf("llm_configs %s: %v; left in the legacy column", id, err))
				continue
			}
			current[key] = v
			changed = true
		}
		if !changed {
			res.Counts.Unchanged++
			continue
		}
		res.Counts.Changed++
		doc, err := json.Marshal(current)
		if err != nil {
			return pageResult{}, err
		}
		ids, docs = append(ids, id), append(docs, string(doc))
	}
	if err := rows.Err(); err != nil {
		return pageResult{}, err
	}
	res.Done = res.Counts.Read < int64(in.N)
	if in.DryRun || len(ids) == 0 {
		return res, nil
	}
	// One statement per page: the new documents are computed here (where they
	// are validated) and written by key, so a retried page writes the same.
	_, err = a.SQL.ExecContext(ctx, `
UPDATE llm_configs AS l SET advanced_parameters = v.doc, updated_at = now()
FROM unnest($1::uuid[], $2::jsonb[]) AS v(id, doc) WHERE l.id = v.id`, pq.Array(ids), pq.Array(docs))
	if err != nil {
		return pageResult{}, fmt.Errorf("write advanced_parameters: %w", err)
	}
	return res, nil
}

// validParam checks one parameter with llmparams, whose errors name the
// field, the value and the allowed range.
func validParam(key string, v any) error {
	b, err := json.Marshal(map[string]any{key: v})
	if err != nil {
		return err
	}
	_, err = llmparams.Parse(b)
	if err != nil {
		return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// llmConfigVerify counts rows where a legacy value that llmparams accepts is
// missing from advanced_parameters or differs there.
func llmConfigVerify(ctx context.Context, a *Activities, _ map[string]string) ([]string, error) {
	// A key present counts: keys set before the migration win over legacy
	// values, and the tests check the moved values themselves.
	checks := map[string]string{
		"top_k":              `top_k >= 0`,
		"frequency_penalty":  `frequency_penalty BETWEEN -2 AND 2`,
		"presence_penalty":   `presence_penalty BETWEEN -2 AND 2`,
		"repetition_penalty": `repetition_penalty BETWEEN 0 AND 2`,
		"seed":               `seed IS NOT NULL`,
		"stop":               `cardinality(stop) BETWEEN 1 AND 4 AND array_position(stop, '') IS NULL`,
		"response_format":    `response_format->>'type' IN ('text', 'json_object') AND response_format - 'type' = '{}'::jsonb`,
		"logit_bias":         `logit_bias IS NOT NULL AND jsonb_typeof(logit_bias) = 'object' AND NOT EXISTS (SELECT 1 FROM jsonb_each(logit_bias) e WHERE jsonb_typeof(e.value) <> 'number' OR e.value::text::numeric NOT BETWEEN -100 AND 100 OR e.key !~ '^[0-9]+$')`,
	}
	var problems []string
	for _, col := range legacyLLMColumns {
		var n int64
		q := "SELECT count(*) FROM llm_configs WHERE (" + checks[col] + ") AND NOT advanced_parameters ? '" + col + "'"
		if err := a.SQL.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return nil, fmt.Errorf("verify %s: %w", col, err)
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%d rows have a valid legacy %s that is not in advanced_parameters", n, col))
		}
	}
	return problems, nil
}
