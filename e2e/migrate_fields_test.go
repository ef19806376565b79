//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
	"github.com/tzurot/tzurot/migrations"
)

// The custom-fields, error-messages and assign-ownership migrations on legacy
// rows, then the contract step — after which the product still answers.
func TestFieldMigrationsThenContract(t *testing.T) {
	s := itest.New(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	ctx := context.Background()
	_, err := s.Activities.SQL.Exec(`
INSERT INTO personalities (name, display_name, voice_enabled, voice_settings, custom_fields) VALUES
 ('kerach', 'Kerach', true, '{"voice_id":"v1","model":"eleven_multilingual_v2","stability":0.4,"similarity":1.7,"style":0.1,"frequency":0.5}',
  '{"errorMessage":"*static*","aliases":["Kerach Prime","kp"],"birthday":"03-14","favorite":"tea"}'),
 ('lilith', 'Lilith', false, NULL, '{"aliases":["KP", "lil"],"birthday":"02-30"}'),
 ('sable', NULL, false, NULL, '{"birthday":"1990-07-04","errorMessage":""}'),
 ('plain', NULL, false, NULL, NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activities.SQL.Exec(`INSERT INTO llm_configs (personality_id, model, top_k) SELECT id, 'openrouter/free', 40 FROM personalities`); err != nil {
		t.Fatal(err)
	}

	run := func(name string) []string {
		return migrate(t, s, name, opcli.DataMigrationOptions{BatchSize: 2}).Report
	}
	report := strings.Join(run("custom-fields"), "\n")
	for _, want := range []string{`is already`, `"02-30" is not MM-DD or YYYY-MM-DD`, "similarity 1.7 is outside 0..1"} {
		if !strings.Contains(report, want) {
			t.Errorf("custom-fields report lacks %q:\n%s", want, report)
		}
	}
	run("error-messages")
	run("llm-config-jsonb")

	k := s.DB.Personality.Query().Where(personality.Name("kerach")).WithAliases().WithVoiceConfig().OnlyX(ctx)
	if k.ErrorMessage == nil || *k.ErrorMessage != "*static*" || k.BirthMonth == nil || *k.BirthMonth != 3 || *k.BirthDay != 14 || k.BirthYear != nil {
		t.Errorf("kerach: error %v birthday %v/%v/%v", k.ErrorMessage, k.BirthMonth, k.BirthDay, k.BirthYear)
	}
	if n := s.DB.PersonalityAlias.Query().CountX(ctx); n != 3 {
		t.Errorf("%d aliases, want 3 (Kerach Prime, kp once, lil)", n)
	}
	if k.Edges.VoiceConfig == nil || k.Edges.VoiceConfig.VoiceModel != "eleven_multilingual_v2" || k.Edges.VoiceConfig.Similarity != 0.75 {
		t.Errorf("kerach: voice %+v", k.Edges.VoiceConfig)
	}
	sable := s.DB.Personality.Query().Where(personality.Name("sable")).OnlyX(ctx)
	if sable.BirthYear == nil || *sable.BirthYear != 1990 || sable.ErrorMessage != nil {
		t.Errorf("sable: %+v", sable)
	}

	// Ownership needs the operator's id.
	s.Config.BotOwnerDiscordID = "123456789012345678"
	run("assign-ownership")
	if n := s.DB.Personality.Query().Where(personality.OwnerIDIsNil()).CountX(ctx); n != 0 {
		t.Errorf("%d personalities without an owner", n)
	}

	// Now the contract step is allowed, drops the legacy columns, and the
	// product still works on the contracted schema.
	applied, err := migrations.ApplyContract(ctx, s.Activities.SQL, migrations.Contracts[0])
	if err != nil || !applied {
		t.Fatalf("contract: applied %v, %v", applied, err)
	}
	var legacy int
	if err := s.Activities.SQL.QueryRow(`SELECT count(*) FROM information_schema.columns WHERE table_name = 'llm_configs' AND column_name = 'top_k'`).Scan(&legacy); err != nil {
		t.Fatal(err)
	}
	if legacy != 0 {
		t.Error("top_k still there after the contract")
	}
	res := reply(t, s, "800000000000000077")
	if res.Outcome != "replied" {
		t.Fatalf("reply after the contract: %+v", res)
	}
	calls := s.OpenRouter.CallsFor(operatorKey)
	if !strings.Contains(string(calls[len(calls)-1].Body), `"top_k":40`) {
		t.Errorf("the moved top_k is not in the request: %s", calls[len(calls)-1].Body)
	}
}

// A migration's backup restores its tables as they were before it wrote.
func TestRollbackRestoresTheBackup(t *testing.T) {
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	if _, err := s.Activities.SQL.Exec(`INSERT INTO personalities (name, custom_fields) VALUES
 ('kerach', '{"errorMessage":"*static*"}'), ('lilith', '{"errorMessage":"*hiss*"}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activities.SQL.Exec(`INSERT INTO llm_configs (personality_id, model) SELECT id, 'openrouter/free' FROM personalities`); err != nil {
		t.Fatal(err)
	}
	st := finishMigration(t, startMigration(t, s, "error-messages", opcli.DataMigrationOptions{}))
	if st.Outcome != "succeeded" || s.DB.Personality.Query().Where(personality.ErrorMessageNotNil()).CountX(ctx) != 2 {
		t.Fatalf("migration: %+v", st)
	}
	var out strings.Builder
	if err := opcli.RollbackDataMigration(ctx, s.Config, "error-messages", false, &out, s.Activities.Log); err != nil {
		t.Fatal(err)
	}
	if n := s.DB.Personality.Query().Where(personality.ErrorMessageNotNil()).CountX(ctx); n != 0 {
		t.Errorf("%d personalities still have the migrated error message", n)
	}
	// Rows in other tables that point at the restored ones survive.
	if n := s.DB.LLMConfig.Query().CountX(ctx); n != 2 {
		t.Errorf("%d llm configs after the rollback, want 2", n)
	}
	if !strings.Contains(out.String(), "rolled back from") {
		t.Errorf("output %q", out.String())
	}
}
