package operator

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
	writes: map[string][]string{"llm_configs": {"advanced_parameters"}},
	page:   llmConfigPage,
	verify: llmConfigVerify,
}

// legacyLLMColumns map the legacy columns to llmparams keys. Two legacy
// columns have no request parameter and are not carried: stream_response
// (stream mode is the bot's choice) and system_fingerprint (a response field).
var legacyLLMColumns = []string{"top_k", "frequency_penalty", "presence_penalty", "repetition_penalty", "stop", "seed", "logit_bias", "response_format"}

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
		// Each legacy value as its own llmparams document, so a bad one is
		// reported and skipped without losing the others.
		legacy := map[string]llmparams.Params{}
		if topK.Valid {
			v := int(topK.Int64)
			legacy["top_k"] = llmparams.Params{TopK: &v}
		}
		if freq.Valid {
			legacy["frequency_penalty"] = llmparams.Params{FrequencyPenalty: &freq.Float64}
		}
		if pres.Valid {
			legacy["presence_penalty"] = llmparams.Params{PresencePenalty: &pres.Float64}
		}
		if rep.Valid {
			legacy["repetition_penalty"] = llmparams.Params{RepetitionPenalty: &rep.Float64}
		}
		if stop != nil {
			legacy["stop"] = llmparams.Params{Stop: []string(stop)}
		}
		if seed.Valid {
			v := int(seed.Int64)
			legacy["seed"] = llmparams.Params{Seed: &v}
		}
		if len(logitBias) > 0 && string(logitBias) != "null" {
			var v map[string]float64
			if err := json.Unmarshal(logitBias, &v); err != nil {
				res.Counts.Reported++
				res.Report = append(res.Report, fmt.Sprintf("llm_configs %s: logit_bias %.80s is not a map of token ids to numbers; left in the legacy column", id, string(logitBias)))
			} else {
				legacy["logit_bias"] = llmparams.Params{LogitBias: v}
			}
		}
		if len(respFormat) > 0 && string(respFormat) != "null" {
			var v llmparams.ResponseFormat
			if err := json.Unmarshal(respFormat, &v); err != nil {
				res.Counts.Reported++
				res.Report = append(res.Report, fmt.Sprintf("llm_configs %s: response_format %.80s is not {\"type\": …}; left in the legacy column", id, string(respFormat)))
			} else {
				legacy["response_format"] = llmparams.Params{ResponseFormat: &v}
			}
		}
		if stream.Valid || fingerprint.Valid {
			// Counted, not reported per row: these have nowhere to go.
			res.Counts.Reported++
		}
		changed := false
		for _, key := range legacyLLMColumns {
			p, ok := legacy[key]
			if !ok {
				continue
			}
			if _, exists := current[key]; exists {
				continue
			}
			if err := p.Validate(); err != nil {
				res.Counts.Reported++
				res.Report = append(res.Report, fmt.Sprintf("llm_configs %s: %s; left in the legacy column", id, strings.ReplaceAll(err.Error(), "\n", "; ")))
				continue
			}
			for k, v := range p.Map() {
				current[k] = v
			}
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
	// One pass over the table, however many columns are checked.
	sums := make([]string, len(legacyLLMColumns))
	for i, col := range legacyLLMColumns {
		sums[i] = "count(*) FILTER (WHERE (" + checks[col] + ") AND NOT advanced_parameters ? '" + col + "')"
	}
	counts := make([]int64, len(legacyLLMColumns))
	dest := make([]any, len(counts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := a.SQL.QueryRowContext(ctx, "SELECT "+strings.Join(sums, ", ")+" FROM llm_configs").Scan(dest...); err != nil {
		return nil, fmt.Errorf("verify llm_configs: %w", err)
	}
	var problems []string
	for i, n := range counts {
		if n > 0 {
			problems = append(problems, fmt.Sprintf("%d rows have a valid legacy %s that is not in advanced_parameters", n, legacyLLMColumns[i]))
		}
	}
	return problems, nil
}
