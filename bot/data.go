package bot

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/metrics"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/userexport"
	"github.com/tzurot/tzurot/workflows"
)

// dataButtonPrefix starts the custom ids of /data delete's buttons:
// "data:delete:<unix seconds>" (confirmed) and "data:cancel".
const dataButtonPrefix = "data"

// attachmentLimit is the largest file sent: Discord's default upload
// limit of 10 MiB per attachment, less room for the rest of the request.
const attachmentLimit = 10<<20 - 64<<10

// exportLimit bounds the JSON an export may build in the bot's memory
// before it is compressed; past it the user is told to ask the operator.
const exportLimit = 96 << 20

func (b *Bot) dataCommand() *command {
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "data", Description: "Everything this bot holds about you",
			Options: []*discordgo.ApplicationCommandOption{
				subcommand("export", "Get a JSON file of everything held about you, privately (never your keys)"),
				subcommand("delete", "Delete everything held about you, keys included (asks you to confirm)"),
			},
		},
		run: b.data,
	}
}

func (b *Bot) data(ctx context.Context, in *Interaction) error {
	switch in.Subcommand() {
	case "export":
		return b.dataExport(ctx, in)
	case "delete":
		return in.ReplyButtons("Delete everything this bot holds about you — profile, settings, keys, conversation turns and memories? "+
			"Your settings, incognito included, are removed: personalities remember what you say again until you turn it on again with /memory incognito enabled:true. "+
			"Your usage stays only in anonymous totals. This cannot be undone.",
			confirmRow(fmt.Sprintf("%s:delete:%d", dataButtonPrefix, b.Now().Unix()), "Delete my data", dataButtonPrefix+":cancel"))
	}
	return UserError("Unknown /data subcommand; Discord may still be updating its list, so try again in a minute.")
}

// dataExport sends the caller's export as a private follow-up: JSON, or
// gzipped JSON when that is too large to attach; in DMs when Discord
// refuses the follow-up.
func (b *Bot) dataExport(ctx context.Context, in *Interaction) error {
	if err := in.Defer(); err != nil {
		return err
	}
	var buf bytes.Buffer
	counts, err := userexport.Write(ctx, b.store, in.UserID, b.Now(), &capped{w: &buf, left: exportLimit})
	if errors.Is(err, errTooLarge) {
		return UserError("Your data is too large to send through Discord; ask the bot's operator for an export.")
	}
	if err != nil {
		return err
	}
	name, body := "tzurot-data-"+in.UserID+".json", buf.Bytes()
	if len(body) > attachmentLimit {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return err
		}
		if gz.Len() > attachmentLimit {
			return UserError("Your data is too large to send through Discord, even compressed; ask the bot's operator for an export.")
		}
		name, body = name+".gz", gz.Bytes()
	}
	msg := exportSummary(counts)
	file := func() *discordgo.File {
		return &discordgo.File{Name: name, ContentType: "application/json", Reader: bytes.NewReader(body)}
	}
	err = in.ReplyFile(msg, file())
	if err == nil {
		return nil
	}
	b.Log.Info("export follow-up refused, sending it in DMs", "user", in.UserID, "err", redact.String(err.Error()))
	ch, err := b.Session.UserChannelCreate(in.UserID)
	if err == nil {
		_, err = b.Session.ChannelMessageSendComplex(ch.ID, &discordgo.MessageSend{Content: msg, Files: []*discordgo.File{file()},
			AllowedMentions: &discordgo.MessageAllowedMentions{}})
	}
	if err == nil {
		metrics.DMSent()
	}
	if err != nil {
		return UserError("Discord refused the file here and in your DMs; allow DMs from this server's members and try again.")
	}
	return in.Reply("Discord refused the file here, so I sent it to your DMs.")
}

// exportSummary is the line sent with an export.
func exportSummary(c userexport.Counts) string {
	if c.Total() == 0 {
		return "Everything this bot holds about you: nothing."
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(c)) {
		if c[name] > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", strings.ReplaceAll(name, "_", " "), thousands(c[name])))
		}
	}
	return "Everything this bot holds about you (" + strings.Join(parts, ", ") + "). Your keys themselves are never in it."
}

// dataButton handles /data delete's buttons: a confirmation within
// confirmTimeout starts DeleteUserData and reports its counts.
func (b *Bot) dataButton(ctx context.Context, in *Interaction) error {
	parts := strings.SplitN(in.MessageComponentData().CustomID, ":", 3)
	if len(parts) != 3 || parts[1] != "delete" {
		return in.Update("Nothing was deleted.")
	}
	if expired(parts[2], b.Now()) {
		return in.Update("That confirmation has expired, so nothing was deleted; run /data delete again.")
	}
	if err := in.Update("Deleting everything held about you…"); err != nil {
		return err
	}
	// Within the 15-minute follow-up window of the interaction.
	ctx, cancel := context.WithTimeout(ctx, 14*time.Minute)
	defer cancel()
	run, err := b.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.DeleteUserDataID(in.UserID),
		TaskQueue:                b.Config.TemporalTaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            "/data delete · user " + in.UserID,
		StaticDetails:            "Deletes everything held about user " + in.UserID + ", keys included, table by table (they confirmed /data delete).",
	}, workflows.DeleteUserDataName, workflows.DeleteUserDataInput{DiscordUserID: in.UserID})
	if err != nil {
		return fmt.Errorf("start DeleteUserData: %w", err)
	}
	var res workflows.DeleteUserDataResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("DeleteUserData: %w", err)
	}
	return in.Reply(deletedSummary(res.Counts))
}

// deletedSummary says what DeleteUserData removed.
func deletedSummary(counts map[string]int) string {
	total := 0
	for t, n := range counts {
		if t != "usage_logs" {
			total += n
		}
	}
	if total == 0 && counts["usage_logs"] == 0 {
		return "Done: this bot held nothing about you, so nothing was deleted."
	}
	return fmt.Sprintf("Done: everything held about you is deleted (%s), keys included; %s of usage stay only in anonymous totals.",
		plural(total, "row"), plural(counts["usage_logs"], "row"))
}

// errTooLarge is capped's refusal past its limit.
var errTooLarge = errors.New("export: larger than the bot builds in memory")

// capped writes to w until left bytes are used, then fails.
type capped struct {
	w    *bytes.Buffer
	left int
}

func (c *capped) Write(p []byte) (int, error) {
	if len(p) > c.left {
		return 0, errTooLarge
	}
	c.left -= len(p)
	return c.w.Write(p)
}
