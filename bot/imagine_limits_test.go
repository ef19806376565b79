//go:build integration

package bot_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/user"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// imageLimit is LIMIT_IMAGES_PER_HOUR as the stack's worker enforces it.
func imageLimit(t *testing.T, w *world) int {
	t.Helper()
	lim := w.Activities.Limits.ImagesPerHour
	if lim < 1 || lim != w.Config.LimitImagesPerHour {
		t.Fatalf("worker image limit %d, LIMIT_IMAGES_PER_HOUR %d: want them equal and at least 1", lim, w.Config.LimitImagesPerHour)
	}
	return lim
}

func userID(t *testing.T, w *world, discordID string) uuid.UUID {
	t.Helper()
	return w.DB.User.Query().Where(user.DiscordID(discordID)).OnlyX(context.Background()).ID
}

// painterWorld is a stack with an image-enabled personality, the image
// limit its worker enforces, and alice's user id.
func painterWorld(t *testing.T) (w *world, limit int, alicesID uuid.UUID) {
	t.Helper()
	w = newWorld(t, itest.Options{})
	seedPainter(t, w, true)
	return w, imageLimit(t, w), userID(t, w, alice)
}

// seedImageUsage writes n image usage rows for the user, the oldest made
// oldest ago and each next one a minute younger, and returns the oldest's
// timestamp as stored.
func seedImageUsage(t *testing.T, w *world, uid uuid.UUID, n int, oldest time.Duration) time.Time {
	t.Helper()
	ctx := context.Background()
	var first time.Time
	for i := range n {
		row := w.DB.UsageLog.Create().SetUserID(uid).SetProvider(activities.ProviderOpenRouter).SetModel(imageModel).
			SetTokensOut(activities.TokensPerImage).SetTokensTotal(activities.TokensPerImage).
			SetRequestType(usagelog.RequestTypeImage).SetTimestamp(time.Now().Add(-oldest + time.Duration(i)*time.Minute)).
			SaveX(ctx)
		if i == 0 {
			first = row.Timestamp
		}
	}
	return first
}

// imageUsage counts the user's image rows that the limit sees in the last
// hour, and the reservations (holds) left behind.
func imageUsage(w *world, uid uuid.UUID) (rows, holds int) {
	ctx := context.Background()
	q := w.DB.UsageLog.Query().Where(usagelog.UserID(uid), usagelog.RequestTypeEQ(usagelog.RequestTypeImage))
	rows = q.Clone().Where(usagelog.ProviderNEQ(activities.HoldProvider), usagelog.TimestampGT(time.Now().Add(-activities.ImageWindow))).CountX(ctx)
	holds = q.Clone().Where(usagelog.ProviderEQ(activities.HoldProvider)).CountX(ctx)
	return rows, holds
}

// imageCalls are the chat completions the provider received: every image
// the bot asked for.
func imageCalls(w *world) []fakeopenrouter.Call {
	var out []fakeopenrouter.Call
	for _, c := range w.OpenRouter.Calls() {
		if strings.HasSuffix(c.Path, "/chat/completions") {
			out = append(out, c)
		}
	}
	return out
}

// imagineIC builds an /imagine interaction by alice for the painter without
// dispatching it, so a test can choose when (and how concurrently) the bot
// sees it.
func imagineIC(w *world, prompt string) *discordgo.InteractionCreate {
	return w.interaction(alice, discordgo.InteractionApplicationCommand, discordgo.ApplicationCommandInteractionData{
		ID: nextID(), Name: "imagine", CommandType: discordgo.ChatApplicationCommand,
		Options: []*discordgo.ApplicationCommandInteractionDataOption{str("prompt", prompt), str("personality", "painter")},
	})
}

// imagineResult waits for the interaction's ImagineImage run to finish.
func imagineResult(t *testing.T, w *world, ic *discordgo.InteractionCreate) workflows.ImagineImageResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res workflows.ImagineImageResult
	if err := w.Client.GetWorkflow(ctx, workflows.ImagineImageID(ic.ID), "").Get(ctx, &res); err != nil {
		t.Fatalf("ImagineImage for %s: %v", ic.ID, err)
	}
	return res
}

// onlyFollowUp is the one answer the interaction got after its deferral.
func onlyFollowUp(t *testing.T, w *world, ic *discordgo.InteractionCreate) fakediscord.Message {
	t.Helper()
	fus := w.Discord.FollowUps(ic.Token)
	if len(fus) != 1 {
		t.Fatalf("%d follow-ups for interaction %s, want exactly one answer", len(fus), ic.ID)
	}
	return fus[0]
}

// assertImageRefusal checks the text a refused /imagine posts: addressed to
// the user, naming the limit and the moment the user may try again.
func assertImageRefusal(t *testing.T, fu fakediscord.Message, limit int, retryAt time.Time) {
	t.Helper()
	if len(fu.Attachments) != 0 {
		t.Errorf("the refusal carries %d attachments", len(fu.Attachments))
	}
	for _, want := range []string{
		"<@" + alice + ">",
		fmt.Sprintf("you have made %d images in the last hour", limit),
		"try again after " + retryAt.UTC().Format(time.RFC3339),
	} {
		if !strings.Contains(fu.Content, want) {
			t.Errorf("refusal %q lacks %q", fu.Content, want)
		}
	}
}

// assertNoImageInHistories runs the secret scan over the runs: neither
// alice's key nor any of the images Discord received may be in a history.
func assertNoImageInHistories(t *testing.T, w *world, ics []*discordgo.InteractionCreate, images [][]byte) {
	t.Helper()
	var ids []string
	for _, ic := range ics {
		ids = append(ids, workflows.ImagineImageID(ic.ID))
	}
	secrets := []string{aliceKey, "iVBORw0KGgo"} // the PNG signature, base64
	for _, img := range images {
		b64 := base64.StdEncoding.EncodeToString(img)
		if len(b64) < 100 {
			t.Fatalf("image of %d bytes is too small to scan for", len(img))
		}
		secrets = append(secrets, b64[len(b64)/2:len(b64)/2+40])
	}
	w.AssertNoSecrets(t, ids, secrets...)
	// And every other workflow of the run (key validations, replies).
	w.AssertNoSecretsAnywhere(t, len(ids), secrets...)
}

// The image that would be one too many in the rolling hour is refused before
// the provider is asked: the user is told when the oldest image leaves the
// window, nothing is charged, and the run ends "rate_limited".
func TestImagineEleventhImageInAnHourIsRefused(t *testing.T) {
	w, limit, uid := painterWorld(t)
	ctx := context.Background()

	// limit-1 images earlier in the hour, the oldest 50 minutes ago; then the
	// last one of the hour, for real, through the bot.
	oldest := seedImageUsage(t, w, uid, limit-1, 50*time.Minute)
	last := imagineIC(w, "a fox in the snow")
	w.Bot.HandleInteraction(ctx, last)
	if res := imagineResult(t, w, last); res.Outcome != workflows.ImaginePosted {
		t.Fatalf("image %d of %d: outcome %q, want %q", limit, limit, res.Outcome, workflows.ImaginePosted)
	}
	posted := onlyFollowUp(t, w, last)
	if len(posted.Attachments) != 1 {
		t.Fatalf("image %d of %d was posted as %+v", limit, limit, posted)
	}
	if rows, _ := imageUsage(w, uid); rows != limit {
		t.Fatalf("%d image rows in the hour after image %d, want %d", rows, limit, limit)
	}

	callsBefore := len(imageCalls(w))
	over := imagineIC(w, "a fox in the snow")
	w.Bot.HandleInteraction(ctx, over)
	if resp := w.responses(over); len(resp) != 1 || resp[0]["type"] != float64(5) {
		t.Fatalf("/imagine responded %v, want one deferral (type 5)", resp)
	}
	res := imagineResult(t, w, over)
	if res.Outcome != workflows.ReplyRateLimited {
		t.Fatalf("image %d of %d: outcome %q, want %q", limit+1, limit, res.Outcome, workflows.ReplyRateLimited)
	}
	refusal := onlyFollowUp(t, w, over)
	if res.DiscordMessageID != refusal.ID {
		t.Errorf("result names message %s, the refusal is %s", res.DiscordMessageID, refusal.ID)
	}
	// The oldest image leaves the window first, so that is when alice may
	// draw again.
	assertImageRefusal(t, refusal, limit, oldest.Add(activities.ImageWindow))

	if n := len(imageCalls(w)) - callsBefore; n != 0 {
		t.Errorf("the refused image made %d provider calls", n)
	}
	rows, holds := imageUsage(w, uid)
	if rows != limit || holds != 0 {
		t.Errorf("after the refusal: %d image rows, %d holds; want %d and 0", rows, holds, limit)
	}

	assertNoImageInHistories(t, w, []*discordgo.InteractionCreate{last, over}, [][]byte{posted.Attachments[0].Data})
}

// Two /imagine for the last slot of the hour at the same instant: exactly one
// is drawn and posted, the other is refused, and the provider is asked once.
// The provider is slowed so the winner's image is still being drawn when the
// loser is checked: what refuses the loser is the winner's reservation, not a
// usage row that already exists.
func TestImagineTwoRequestsForTheLastSlot(t *testing.T) {
	const (
		rounds = 3
		// drawing is how long the provider takes per image: the window in
		// which a check without a reservation would admit both.
		drawing = 600 * time.Millisecond
	)
	w, limit, uid := painterWorld(t)
	ctx := context.Background()
	// Two slow steps per round: enough for both requests even if both were
	// (wrongly) let through.
	for range 2 * rounds {
		w.OpenRouter.Script(aliceKey, fakeopenrouter.Delay(drawing))
	}

	var all []*discordgo.InteractionCreate
	var images [][]byte
	overlapped := 0
	for round := 1; round <= rounds; round++ {
		w.DB.UsageLog.Delete().Where(usagelog.UserID(uid)).ExecX(ctx)
		seedImageUsage(t, w, uid, limit-1, 50*time.Minute)
		callsBefore := len(imageCalls(w))

		ics := []*discordgo.InteractionCreate{
			imagineIC(w, fmt.Sprintf("round %d: a fox", round)),
			imagineIC(w, fmt.Sprintf("round %d: a hare", round)),
		}
		all = append(all, ics...)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, ic := range ics {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				w.Bot.HandleInteraction(ctx, ic)
			}()
		}
		close(start)
		wg.Wait()

		var winner, loser *discordgo.InteractionCreate
		for _, ic := range ics {
			switch res := imagineResult(t, w, ic); res.Outcome {
			case workflows.ImaginePosted:
				if winner != nil {
					t.Fatalf("round %d: both requests for the last slot were posted", round)
				}
				winner = ic
			case workflows.ReplyRateLimited:
				if loser != nil {
					t.Fatalf("round %d: both requests for the last slot were refused", round)
				}
				loser = ic
				if fu := onlyFollowUp(t, w, ic); res.DiscordMessageID != fu.ID {
					t.Errorf("round %d: result names message %s, the refusal is %s", round, res.DiscordMessageID, fu.ID)
				}
			default:
				t.Fatalf("round %d: outcome %q", round, res.Outcome)
			}
		}

		img := onlyFollowUp(t, w, winner)
		if len(img.Attachments) != 1 {
			t.Fatalf("round %d: the winner was posted as %+v", round, img)
		}
		images = append(images, img.Attachments[0].Data)
		refusal := onlyFollowUp(t, w, loser)
		if len(refusal.Attachments) != 0 || !strings.Contains(refusal.Content, fmt.Sprintf("you have made %d images in the last hour", limit)) {
			t.Errorf("round %d: the loser was told %q", round, refusal.Content)
		}
		if n := len(imageCalls(w)) - callsBefore; n != 1 {
			t.Errorf("round %d: %d provider calls for one slot", round, n)
		}
		rows, holds := imageUsage(w, uid)
		if rows != limit || holds != 0 {
			t.Errorf("round %d: %d image rows in the hour, %d holds; want %d and 0", round, rows, holds, limit)
		}

		// Did the two really overlap? The loser's image step failed before
		// the winner's usage row was written.
		row := w.DB.UsageLog.Query().Where(usagelog.UserID(uid), usagelog.ProviderNEQ(activities.HoldProvider)).
			Order(usagelog.ByTimestamp()).AllX(ctx)
		written := row[len(row)-1].Timestamp
		if refused := activityFailedAt(t, w, loser); refused.Before(written) {
			overlapped++
		} else {
			t.Logf("round %d: the loser was refused %s after the winner's row was written", round, refused.Sub(written))
		}
	}
	if overlapped == 0 {
		t.Fatalf("in none of %d rounds was the loser checked while the winner drew: the race was not exercised", rounds)
	}
	t.Logf("%d of %d rounds refused the loser while the winner's image was still being drawn", overlapped, rounds)

	assertNoImageInHistories(t, w, all, images)
}

// A request refused while another is still drawing the last image of the
// hour must name the moment a slot really frees: the drawing image becomes a
// usage row that counts for a whole hour, so until the oldest earlier image
// leaves the window the user stays at the limit.
func TestImagineRefusedWhileTheLastSlotIsDrawing(t *testing.T) {
	w, limit, uid := painterWorld(t)
	ctx := context.Background()
	oldest := seedImageUsage(t, w, uid, limit-1, 50*time.Minute)
	w.OpenRouter.Script(aliceKey, fakeopenrouter.Delay(2*time.Second))

	drawing := imagineIC(w, "a fox in the snow")
	w.Bot.HandleInteraction(ctx, drawing)
	// The slot is reserved from the check until the usage row is written.
	testwait.Until(t, "the last slot's reservation", func() bool {
		_, holds := imageUsage(w, uid)
		return holds == 1 || len(w.Discord.FollowUps(drawing.Token)) > 0
	})
	if _, holds := imageUsage(w, uid); holds != 1 {
		t.Fatalf("%d reservations while the last image of the hour was drawn, want 1", holds)
	}
	over := imagineIC(w, "a hare in the snow")
	w.Bot.HandleInteraction(ctx, over)

	if res := imagineResult(t, w, over); res.Outcome != workflows.ReplyRateLimited {
		t.Fatalf("the request during the drawing: outcome %q, want %q", res.Outcome, workflows.ReplyRateLimited)
	}
	if _, holds := imageUsage(w, uid); holds != 1 {
		t.Fatal("the first image finished before the second was checked: nothing was tested")
	}
	if res := imagineResult(t, w, drawing); res.Outcome != workflows.ImaginePosted {
		t.Fatalf("the drawing image: outcome %q", res.Outcome)
	}
	if rows, _ := imageUsage(w, uid); rows != limit {
		t.Fatalf("%d image rows, want %d", rows, limit)
	}
	assertImageRefusal(t, onlyFollowUp(t, w, over), limit, oldest.Add(activities.ImageWindow))
}

// activityFailedAt is when the run's image activity failed, from its history.
func activityFailedAt(t *testing.T, w *world, ic *discordgo.InteractionCreate) time.Time {
	t.Helper()
	it := w.Client.GetWorkflowHistory(context.Background(), workflows.ImagineImageID(ic.ID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED {
			return ev.GetEventTime().AsTime()
		}
	}
	t.Fatalf("no failed activity in the history of %s", workflows.ImagineImageID(ic.ID))
	return time.Time{}
}
