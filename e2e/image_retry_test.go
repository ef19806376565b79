//go:build e2e

package e2e

import (
	"strings"
	"testing"

	"github.com/tzurot/tzurot/ent/imagedescription"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
)

// A Generate retried after the reply's provider failed (a 503 once the
// images were described) finds the description it made and does not ask
// the vision model again; the text model is given the same description.
func TestImageDescriptionSurvivesARetry(t *testing.T) {
	s := userKeyStack(t, itest.Options{}, "deepseek/deepseek-r1")
	s.OpenRouter.Script(userKey, fakeopenrouter.OK(), fakeopenrouter.Fail(503))
	askWithImage(t, s, 3, "bird.png", "what bird?")
	var vision, text []fakeopenrouter.Call
	for _, c := range chatCalls(s) {
		if c.Model == s.Config.VisionModel {
			vision = append(vision, c)
		} else {
			text = append(text, c)
		}
	}
	if len(vision) != 1 || len(text) != 2 {
		t.Fatalf("%d calls to the vision model (want 1), %d to the text model (want 2: the 503, then the retry)", len(vision), len(text))
	}
	described := fakeopenrouter.DescribeImages(vision[0].Images)
	for i, c := range text {
		if got := lastUserText(t, c); !strings.Contains(got, described) || !strings.Contains(got, "bird.png") {
			t.Errorf("text call %d was not given the description: %q", i+1, got)
		}
	}
	if n := s.DB.ImageDescription.Query().Where(imagedescription.DescriptionContains(described)).CountX(t.Context()); n != 1 {
		t.Errorf("%d stored descriptions; want 1", n)
	}
}
