//go:build e2e

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/ent/conversationhistory"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/opcli"
)

// fixtures is shared/ beside the clone, as CI checks it out, or SHAPES_FIXTURES.
var fixtures = func() string {
	if d := os.Getenv("SHAPES_FIXTURES"); d != "" {
		return d
	}
	return "../../shared/fixtures/shapes-backup"
}()

func TestShapesImport(t *testing.T) {
	if _, err := os.Stat(fixtures); err != nil {
		t.Fatalf("the shapes fixtures are not at %s (shared/ beside the clone): set SHAPES_FIXTURES to their path", fixtures)
	}
	s := itest.New(t, itest.Options{})
	ctx := context.Background()
	opts := opcli.DataMigrationOptions{BatchSize: 10, Dir: fixtures}

	dryOpts := opts
	dryOpts.DryRun = true
	dry := finishMigration(t, startMigration(t, s, "shapes-import", dryOpts))
	if dry.Counts.Changed != 66 || s.DB.Personality.Query().CountX(ctx) != 0 {
		t.Fatalf("dry run: %+v, personalities now %d", dry.Counts, s.DB.Personality.Query().CountX(ctx))
	}

	st := finishMigration(t, startMigration(t, s, "shapes-import", opts))
	if st.Outcome != "succeeded" || st.Counts.Read != 66 || st.Counts.Changed != 66 {
		t.Fatalf("import: %+v", st)
	}
	if n := s.DB.Personality.Query().CountX(ctx); n != 66 {
		t.Errorf("%d personalities, want 66", n)
	}
	if n := s.DB.LLMConfig.Query().CountX(ctx); n != 66 {
		t.Errorf("%d llm configs, want 66", n)
	}
	if n := s.DB.ConversationHistory.Query().Where(conversationhistory.ChannelID(operator.ShapesChannel)).CountX(ctx); n != 420 {
		t.Errorf("%d history turns, want 420", n)
	}
	report := strings.Join(st.Report, "\n")
	if !strings.Contains(report, "is claimed by") || !strings.Contains(report, "keeps it (first in the registry)") {
		t.Errorf("alias collisions not reported with both claimants:\n%s", report)
	}
	aliases := s.DB.PersonalityAlias.Query().CountX(ctx)
	if aliases == 0 {
		t.Error("no aliases imported")
	}

	// Re-running it changes nothing.
	opts.Force = true
	again := finishMigration(t, startMigration(t, s, "shapes-import", opts))
	if again.Counts.Changed != 0 || s.DB.PersonalityAlias.Query().CountX(ctx) != aliases ||
		s.DB.ConversationHistory.Query().CountX(ctx) != 420 {
		t.Fatalf("re-run changed things: %+v", again.Counts)
	}

	// The imported personalities answer; the alias registry routes.
	p, err := s.Activities.ResolvePersonality(ctx, activities.ResolvePersonalityInput{Ref: "Kerach", DiscordUserID: "100000000000000001"})
	if err != nil || p.Name == "" {
		t.Fatalf("alias Kerach: %+v %v", p, err)
	}
}
