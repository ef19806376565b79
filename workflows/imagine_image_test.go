package workflows

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
)

var imagineIn = ImagineImageInput{
	DiscordUserID: "111111111111111111", Personality: "Kerach", Prompt: "a fox",
	ChannelID: "900000000000000001", InteractionToken: "tok", ApplicationID: "1100000000000000001",
}

type imagineRecorder struct {
	imagines, deactivated int
	notices, dms          []string
}

func runImagine(t *testing.T, imagineErr error) (ImagineImageResult, *imagineRecorder) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: ImagineImageID("42")})
	rec := &imagineRecorder{}
	env.OnActivity(a.ResolvePersonality, mock.Anything,
		activities.ResolvePersonalityInput{Ref: "Kerach", DiscordUserID: "111111111111111111"}).Return(kerach, nil)
	env.OnActivity(a.Imagine, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ImagineInput) (activities.ImagineOutput, error) {
			rec.imagines++
			if in.DeliveryKey != "imagine/42/post" || in.PersonalityID != kerach.ID || in.Prompt != "a fox" || in.InteractionToken != "tok" {
				t.Errorf("Imagine input %+v", in)
			}
			if imagineErr != nil {
				return activities.ImagineOutput{}, imagineErr
			}
			return activities.ImagineOutput{DiscordMessageID: "700000000000000001"}, nil
		})
	env.OnActivity(a.ImagineNotice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ImagineNoticeInput) (string, error) {
			if in.DeliveryKey != "imagine/42/post" {
				t.Errorf("notice delivery key %q", in.DeliveryKey)
			}
			rec.notices = append(rec.notices, in.Content)
			return "700000000000000002", nil
		}).Maybe()
	onDeactivateKey(env, imagineIn.DiscordUserID, &rec.deactivated)
	onSendDM(t, env, "imagine/42/dm", "", &rec.dms)
	return execute[ImagineImageResult](t, env, ImagineImage, imagineIn), rec
}

func TestImaginePosted(t *testing.T) {
	res, rec := runImagine(t, nil)
	if res.Outcome != ImaginePosted || res.DiscordMessageID != "700000000000000001" || len(rec.notices) != 0 {
		t.Fatalf("result %+v, notices %q", res, rec.notices)
	}
}

func TestImagineDisabled(t *testing.T) {
	res, rec := runImagine(t, temporal.NewNonRetryableApplicationError("off", activities.ErrImagesDisabled, nil))
	if res.Outcome != ImagineDisabled || len(rec.notices) != 1 || !strings.Contains(rec.notices[0], "does not make images: only the bot's operator can switch images on") {
		t.Fatalf("result %+v, notices %q", res, rec.notices)
	}
	if rec.imagines != 1 {
		t.Errorf("Imagine ran %d times, want 1 (not retried)", rec.imagines)
	}
}

// A size the personality does not draw is told as the activity says it, not
// as a broken image setup.
func TestImagineSizeRefusedIsNamed(t *testing.T) {
	const refusal = `size "100x100" is not accepted: give WxH with each side 256 to 2048 pixels, e.g. 1024x768`
	res, rec := runImagine(t, temporal.NewNonRetryableApplicationError(refusal, activities.ErrBadInput, nil))
	if res.Outcome != ReplyFailed || len(rec.notices) != 1 || rec.notices[0] != "No image: "+refusal {
		t.Fatalf("result %+v, notices %q", res, rec.notices)
	}
}

func TestImagineKeyRejectedDeactivatesAndDMsOnce(t *testing.T) {
	res, rec := runImagine(t, temporal.NewNonRetryableApplicationError("401", activities.ErrInvalidKey, nil))
	if res.Outcome != ReplyKeyRejected || rec.deactivated != 1 || len(rec.dms) != 1 || len(rec.notices) != 1 {
		t.Fatalf("result %+v, recorder %+v", res, rec)
	}
	if !strings.Contains(rec.dms[0], "/wallet set") || rec.imagines != 1 {
		t.Errorf("DM %q, imagines %d", rec.dms[0], rec.imagines)
	}
}

func TestImagineNoKey(t *testing.T) {
	res, rec := runImagine(t, temporal.NewNonRetryableApplicationError("you need your own OpenRouter key", activities.ErrNoKey, nil))
	if res.Outcome != ReplyNoKey || rec.deactivated != 0 || len(rec.dms) != 0 {
		t.Fatalf("result %+v, recorder %+v", res, rec)
	}
	if len(rec.notices) != 1 || !strings.Contains(rec.notices[0], "<@111111111111111111> you need your own OpenRouter key") {
		t.Errorf("notices %q", rec.notices)
	}
}

func TestImagineFailedAfterRetries(t *testing.T) {
	res, rec := runImagine(t, temporal.NewApplicationError("upstream down", activities.ErrUnavailable))
	if res.Outcome != ReplyFailed || len(rec.notices) != 1 || !strings.Contains(rec.notices[0], "couldn't make that image") {
		t.Fatalf("result %+v, notices %q", res, rec.notices)
	}
	if rec.imagines != 4 {
		t.Errorf("Imagine ran %d times, want 4 attempts", rec.imagines)
	}
}

func TestImagineRateLimited(t *testing.T) {
	res, _ := runImagine(t, temporal.NewNonRetryableApplicationError("429", activities.ErrRateLimited, nil))
	if res.Outcome != ReplyRateLimited {
		t.Fatalf("result %+v", res)
	}
}

// A long provider wait is told at once, with the activity's own message.
func TestImagineWaitTooLong(t *testing.T) {
	for _, tc := range []struct{ typ, outcome string }{
		{activities.ErrQuotaExhausted, ReplyRateLimited},
		{activities.ErrUnavailableUntil, ReplyFailed},
	} {
		res, rec := runImagine(t, temporal.NewNonRetryableApplicationError("they come back <t:1767225600:R>", tc.typ, nil))
		if res.Outcome != tc.outcome || rec.imagines != 1 || len(rec.notices) != 1 ||
			rec.notices[0] != "<@111111111111111111> they come back <t:1767225600:R>" {
			t.Errorf("%s: result %+v, imagines %d, notices %q", tc.typ, res, rec.imagines, rec.notices)
		}
	}
}
