package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/memory"
)

// memoryButtonPrefix starts the custom ids of /memory's buttons:
// "mem:page:<personality id>:<cursor>" (the next page),
// "mem:forget:<personality id>:<unix seconds>" (forget all, confirmed) and
// "mem:cancel". Each acts for whoever presses it, on their own memories.
const memoryButtonPrefix = "mem"

// memoryPageSize is how many memories a /memory list page shows.
const memoryPageSize = 10

// shortIDLen is how many hex digits of a memory's id /memory list shows
// and /memory forget accepts at least.
const shortIDLen = 8

// confirmTimeout is how long a confirm button acts; pressed later, it
// does nothing and says so.
const confirmTimeout = 5 * time.Minute

func (b *Bot) memoryCommand() *command {
	pers := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "personality",
		Description: "Name or alias", Required: true, Autocomplete: true}
	id := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "memory",
		Description: "The memory's id from /memory list (default: every memory with this personality)", MinLength: ptr(shortIDLen), MaxLength: 36}
	enabled := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "enabled",
		Description: "On: nothing new is remembered about you", Required: true}
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "memory", Description: "What personalities remember about you across conversations",
			Options: []*discordgo.ApplicationCommandOption{
				subcommand("list", "Your memories with a personality, newest first (only you see them)", pers),
				subcommand("forget", "Forget one memory, or every memory with a personality", pers, id),
				subcommand("incognito", "While on, personalities remember nothing new about you", enabled),
			},
		},
		run:          b.memory_,
		autocomplete: b.personalityCommandAutocomplete,
	}
}

func ptr[T any](v T) *T { return &v }

func (b *Bot) memory_(ctx context.Context, in *Interaction) error {
	if in.Subcommand() == "incognito" {
		return b.memoryIncognito(ctx, in)
	}
	if b.Memory == nil {
		return UserError("Long-term memory is not available on this bot.")
	}
	acc, p, err := b.personalityOption(ctx, in)
	if err != nil {
		return err
	}
	switch in.Subcommand() {
	case "list":
		content, rows, err := b.memoryPage(ctx, acc.UserID, p, "", 1)
		if err != nil {
			return err
		}
		return in.ReplyButtons(content, rows...)
	case "forget":
		if ref := strings.TrimSpace(in.String("memory")); ref != "" {
			return b.forgetOne(ctx, in, acc.UserID, p, ref)
		}
		return in.ReplyButtons(fmt.Sprintf("Forget every memory %s has of you? "+
			"The recent conversation in each channel stays in its history, which %s still reads there (/data delete removes that too). "+
			"This cannot be undone.", personaName(p), personaName(p)),
			confirmRow(fmt.Sprintf("%s:forget:%s:%d", memoryButtonPrefix, p.ID, b.Now().Unix()), "Forget all", memoryButtonPrefix+":cancel"))
	}
	return UserError("Unknown /memory subcommand; Discord may still be updating its list, so try again in a minute.")
}

// memoryPage is page number n (from 1; 0 when unknown: a button made
// before pages were numbered) of the user's memories with p, each with its
// short id and date, ending with which page it is and whether it is the
// last, and a button to the next page when there is one.
func (b *Bot) memoryPage(ctx context.Context, userID uuid.UUID, p *ent.Personality, after string, n int) (string, []discordgo.MessageComponent, error) {
	var page memory.Listed
	if userID != uuid.Nil {
		var err error
		page, err = b.Memory.List(ctx, p.ID, userID, memory.Page{After: after, Size: memoryPageSize})
		if errors.Is(err, memory.ErrInvalid) {
			return "", nil, UserError("That page is no longer valid; run /memory list again.")
		}
		if err != nil {
			return "", nil, err
		}
	}
	if len(page.Memories) == 0 {
		if after != "" {
			return "No more memories.", nil, nil
		}
		return fmt.Sprintf("%s remembers nothing about you.", personaName(p)), nil, nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "What %s remembers about you (newest first; forget one with /memory forget personality:%s memory:<id>):\n", personaName(p), p.Name)
	for _, m := range page.Memories {
		fmt.Fprintf(&sb, "`%s` <t:%d:d> %s\n", m.ID.String()[:shortIDLen], m.CreatedAt.Unix(),
			strings.ReplaceAll(truncateRunes(m.Content, 150), "\n", " "))
	}
	where := "This page"
	if n > 0 {
		where = fmt.Sprintf("Page %d", n)
	}
	if page.Next == "" {
		fmt.Fprintf(&sb, "%s is the last.", where)
		return sb.String(), nil, nil
	}
	fmt.Fprintf(&sb, "%s; Next page shows more.", where)
	return sb.String(), []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Next page", Style: discordgo.SecondaryButton, CustomID: pageButtonID(p.ID, page.Next, n)},
	}}}, nil
}

// maxCustomID is the longest custom_id Discord takes
// (https://discord.com/developers/docs/interactions/message-components#button-object).
const maxCustomID = 100

// pageButtonID is the custom id of the button to the page after the one
// numbered n: mem:page:<personality>:<cursor>[:<n+1>], the number left
// out when n is unknown or would pass Discord's 100 characters.
func pageButtonID(pid uuid.UUID, cursor string, n int) string {
	id := fmt.Sprintf("%s:page:%s:%s", memoryButtonPrefix, pid, cursor)
	if numbered := fmt.Sprintf("%s:%d", id, n+1); n > 0 && len(numbered) <= maxCustomID {
		return numbered
	}
	return id
}

// forgetOne forgets the user's memory with p whose id is, or starts with, ref.
func (b *Bot) forgetOne(ctx context.Context, in *Interaction, userID uuid.UUID, p *ent.Personality, ref string) error {
	ids, err := b.store.MemoriesByPrefix(ctx, userID, p.ID, ref)
	if err != nil {
		return err
	}
	switch {
	case len(ids) == 0:
		return UserError("%s has no memory of you with the id %s; /memory list shows their ids.", personaName(p), truncateRunes(ref, 36))
	case len(ids) > 1:
		return UserError("Several of your memories with %s start with %s; give more of the id.", personaName(p), ref)
	}
	id := ids[0]
	if _, err := b.Memory.Forget(ctx, userID, id); err != nil {
		return err
	}
	return in.Reply(fmt.Sprintf("%s has forgotten memory %s.", personaName(p), id.String()[:shortIDLen]))
}

// memoryButton handles /memory's buttons, for the user who presses them.
func (b *Bot) memoryButton(ctx context.Context, in *Interaction) error {
	parts := strings.SplitN(in.MessageComponentData().CustomID, ":", 4)
	if len(parts) < 2 || parts[1] == "cancel" || b.Memory == nil {
		return in.Update("Nothing was forgotten.")
	}
	if len(parts) != 4 {
		return UserError("That button has expired; run the command again.")
	}
	acc, err := b.personalityAccessOf(ctx, in)
	if err != nil {
		return err
	}
	pid, err := uuid.Parse(parts[2])
	if err != nil {
		return UserError("That button has expired; run the command again.")
	}
	p, ok := b.store.Usable(ctx, acc.Speaker, pid)
	if !ok {
		return UserError("That personality is no longer there.")
	}
	switch parts[1] {
	case "page":
		cursor, num, _ := strings.Cut(parts[3], ":")
		n, _ := strconv.Atoi(num)
		content, rows, err := b.memoryPage(ctx, acc.UserID, p, cursor, n)
		if err != nil {
			return err
		}
		return in.Update(content, rows...)
	case "forget":
		if expired(parts[3], b.Now()) {
			return in.Update("That confirmation has expired, so nothing was forgotten; run /memory forget again.")
		}
		n := 0
		if acc.UserID != uuid.Nil {
			if n, err = b.Memory.ForgetAll(ctx, p.ID, acc.UserID); err != nil {
				return err
			}
		}
		return in.Update(fmt.Sprintf("%s has forgotten its memories of you (%s). "+
			"The recent conversation in each channel stays in its history, which it still reads there; /data delete removes that too.",
			personaName(p), memoriesCount(n)))
	}
	return UserError("That button has expired; run the command again.")
}

// memoriesCount is "1 memory", "2 memories".
func memoriesCount(n int) string {
	if n == 1 {
		return "1 memory"
	}
	return thousands(n) + " memories"
}

// confirmRow is a danger button that confirms and a Cancel beside it.
func confirmRow(confirmID, label, cancelID string) discordgo.ActionsRow {
	return discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: label, Style: discordgo.DangerButton, CustomID: confirmID},
		discordgo.Button{Label: "Cancel", Style: discordgo.SecondaryButton, CustomID: cancelID},
	}}
}

// expired reports whether a confirm button issued at unix seconds issued
// is older than confirmTimeout (or unreadable).
func expired(issued string, now time.Time) bool {
	at, err := strconv.ParseInt(issued, 10, 64)
	return err != nil || now.Sub(time.Unix(at, 0)) > confirmTimeout || now.Before(time.Unix(at, 0).Add(-time.Minute))
}

// memoryIncognito switches /memory incognito for the user.
func (b *Bot) memoryIncognito(ctx context.Context, in *Interaction) error {
	o, ok := in.Options()["enabled"]
	on, isBool := false, false
	if ok && o != nil {
		on, isBool = o.Value.(bool)
	}
	if !isBool {
		return UserError("Say enabled:true or enabled:false.")
	}
	if err := b.store.SetIncognito(ctx, in.UserID, in.Username, on); err != nil {
		return err
	}
	if on {
		return in.Reply("Incognito is on: personalities remember nothing new about you until you turn it off (/memory incognito enabled:false). What they already remember stays; /memory forget removes it.")
	}
	return in.Reply("Incognito is off: personalities may remember what you tell them again.")
}
