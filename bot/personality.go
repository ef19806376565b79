package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/store"
)

// defaultPersonalityModel costs nobody anything, so a new personality can
// answer before its owner has chosen a model.
const defaultPersonalityModel = provider.FreeModel

// Limits on what users type: a display name becomes a webhook username
// (Discord allows 80 characters), and an error message is posted as is.
const (
	maxDisplayName  = 80
	maxAlias        = 64
	maxErrorMessage = 2000
	maxSystemPrompt = 6000 // Discord's longest string option
)

var slugPattern = regexp.MustCompile(`^[a-z0-9-]{2,64}$`)

// personalityCommand is /personality: creating personalities and managing
// the ones a user owns (or, for superusers and the bot's operator, any).
func (b *Bot) personalityCommand() *command {
	str := func(name, desc string, required bool, maxLen int) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString,
			Name: name, Description: desc, Required: required, MaxLength: maxLen}
	}
	ref := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "name",
		Description: "The personality's name or alias", Required: true, Autocomplete: true}
	displayName := func(required bool) *discordgo.ApplicationCommandOption {
		return str("display_name", "The name shown on its messages, e.g. Kerach", required, maxDisplayName)
	}
	systemPrompt := str("system_prompt", "Who it is and how it talks", false, maxSystemPrompt)
	avatar := str("avatar_url", "An https:// link to its picture", false, 1000)
	errorMessage := str("error_message", "What it says when it cannot answer", false, maxErrorMessage)
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "personality", Description: "Create and manage personalities",
			Options: []*discordgo.ApplicationCommandOption{
				subcommand("create", "Create a personality that you own",
					str("name", "Its name: lower-case letters, digits and dashes, e.g. cold-kerach", true, 64),
					displayName(true),
					str("model", "OpenRouter model id (default "+defaultPersonalityModel+")", false, 100),
					systemPrompt, avatar, errorMessage),
				subcommand("edit", "Change a personality (owner or superuser)", ref, displayName(false), systemPrompt, avatar, errorMessage,
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "public",
						Description: "Whether everyone can find it"}),
				subcommand("view", "Show a personality's details", ref),
				subcommand("delete", "Delete a personality with its settings and aliases (owner or superuser)", ref),
				{
					Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "alias", Description: "Other names a personality answers to",
					Options: []*discordgo.ApplicationCommandOption{
						subcommand("add", "Let a personality answer to another name", ref, str("alias", "The other name, e.g. Kerach", true, maxAlias)),
						subcommand("remove", "Stop a personality answering to an alias", ref,
							&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "alias",
								Description: "The alias to remove", Required: true, Autocomplete: true}),
					},
				},
			},
		},
		run:          b.personality_,
		autocomplete: b.personalityCommandAutocomplete,
	}
}

func (b *Bot) personality_(ctx context.Context, in *Interaction) error {
	if in.Subcommand() == "create" {
		return b.personalityCreate(ctx, in)
	}
	acc, err := b.personalityAccessOf(ctx, in)
	if err != nil {
		return err
	}
	m, err := b.findMatch(ctx, acc, in.String("name"))
	if err != nil {
		return err
	}
	p := m.Personality
	if in.Subcommand() != "view" && len(m.Others) > 0 {
		// Changing one of several personalities called the same must not
		// be a guess.
		return severalCalled(in.String("name"), m)
	}
	if action := managingAction(in.Subcommand()); action != "" {
		if err := acc.mayManage(p, action); err != nil {
			return err
		}
	}
	switch in.Subcommand() {
	case "view":
		return b.personalityView(ctx, in, p)
	case "edit":
		return b.personalityEdit(ctx, in, p)
	case "delete":
		if err := b.store.DeletePersonality(ctx, p.ID); err != nil {
			return err
		}
		b.personalities.invalidate()
		return in.Reply(fmt.Sprintf("%s (`%s`) is deleted, with its settings and aliases.", personaName(p), p.Name))
	case "alias add":
		return b.personalityAliasAdd(ctx, in, p)
	case "alias remove":
		return b.personalityAliasRemove(ctx, in, p)
	}
	return UserError("Unknown /personality subcommand.")
}

// managingAction is what a /personality subcommand does to a personality
// only its owner or a superuser may manage, in the words of the refusal; ""
// for a subcommand anyone who can see the personality may use.
func managingAction(name string) string {
	switch name {
	case "edit":
		return "edit it"
	case "delete":
		return "delete it"
	case "alias add", "alias remove":
		return "change its aliases"
	}
	return ""
}

func (b *Bot) personalityCreate(ctx context.Context, in *Interaction) error {
	name := strings.TrimSpace(in.String("name"))
	if !slugPattern.MatchString(name) {
		return UserError("“%s” cannot be a name: use 2–64 lower-case letters, digits and dashes, e.g. cold-kerach.", name)
	}
	if why := access.Unfit(access.ByName, name); why != "" {
		return UserError("“%s” cannot be a name: %s.", name, why)
	}
	display, err := checkPersonalityDisplayName(in.String("display_name"))
	if err != nil {
		return err
	}
	model := strings.TrimSpace(in.String("model"))
	if model == "" {
		model = defaultPersonalityModel
	}
	if !validModelID(model) {
		return UserError("“%s” is not an OpenRouter model id; they look like provider/model, e.g. anthropic/claude-sonnet-4.", model)
	}
	fields, err := personalityFields(in)
	if err != nil {
		return err
	}
	acc, err := b.personalityAccessOf(ctx, in)
	if err != nil {
		return err
	}
	// Names, aliases and display names share one namespace for mentions
	// (access.Clash): a new name may not equal anyone's name or alias; no
	// text may equal another owner's name, alias or display name, or extend
	// one at a word boundary, or be what one begins with. A user without a
	// row yet owns nothing, so every other personality is another owner's.
	if err := b.clash(ctx, acc, access.ByName, name, &acc.UserID, uuid.Nil, "The name “%s” is already taken%s; choose another."); err != nil {
		return err
	}
	if err := b.clash(ctx, acc, access.ByDisplayName, display, &acc.UserID, uuid.Nil, "The display name “%s” is already taken%s; choose another."); err != nil {
		return err
	}
	owner, err := b.upsertInvoker(ctx, in)
	if err != nil {
		return err
	}
	_, err = b.store.CreatePersonality(ctx, store.NewPersonality{Name: name, DisplayName: display, Model: model, Owner: owner, Fields: fields})
	if errors.Is(err, store.ErrNameTaken) { // someone took the name since the check
		return UserError("The name “%s” is already taken; choose another.", name)
	}
	if err != nil {
		return err
	}
	b.personalities.invalidate()
	return in.Reply(fmt.Sprintf("Created %s (`%s`), answering with `%s`. Mention it with @%s; "+
		"give it other names with /personality alias add and change it with /personality edit.", display, name, model, name))
}

// personalityFields are the optional settings create and edit share, nil
// when not given.
func personalityFields(in *Interaction) (store.PersonalityFields, error) {
	var f store.PersonalityFields
	opts := in.Options()
	if _, ok := opts["system_prompt"]; ok {
		v := strings.TrimSpace(in.String("system_prompt"))
		if v == "" || utf8.RuneCountInString(v) > maxSystemPrompt {
			return f, UserError("The system prompt must be 1–%d characters.", maxSystemPrompt)
		}
		f.SystemPrompt = &v
	}
	if _, ok := opts["avatar_url"]; ok {
		v := strings.TrimSpace(in.String("avatar_url"))
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" {
			return f, UserError("“%s” is not an https:// link; give the address of the picture, e.g. https://example.com/kerach.png.", v)
		}
		f.AvatarURL = &v
	}
	if _, ok := opts["error_message"]; ok {
		v := strings.TrimSpace(in.String("error_message"))
		if v == "" || utf8.RuneCountInString(v) > maxErrorMessage {
			return f, UserError("The error message must be 1–%d characters.", maxErrorMessage)
		}
		f.ErrorMessage = &v
	}
	return f, nil
}

func checkPersonalityDisplayName(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || utf8.RuneCountInString(v) > maxDisplayName {
		return "", UserError("The display name must be 1–%d characters.", maxDisplayName)
	}
	if why := access.Unfit(access.ByDisplayName, v); why != "" {
		return "", UserError("“%s” cannot be a display name: %s.", v, why)
	}
	return v, nil
}

// clash refuses term as a new kind of name for the personality self (uuid.Nil
// when being created) owned by owner, when access.Clash finds it taken. The
// holder is named only when the asker may see it, so private names stay
// private. format has two %s: the term, and " by <holder>" or "".
func (b *Bot) clash(ctx context.Context, acc personalityAccess, kind access.Kind, term string, owner *uuid.UUID, self uuid.UUID, format string) error {
	held, err := b.store.Clash(ctx, kind, term, owner, self)
	if err != nil || held == nil {
		return err
	}
	by := ""
	if acc.CanSee(held) {
		by = " by " + held.Name
	}
	return UserError(format, term, by)
}

func (b *Bot) personalityEdit(ctx context.Context, in *Interaction, p *ent.Personality) error {
	fields, err := personalityFields(in)
	if err != nil {
		return err
	}
	opts := in.Options()
	change := store.PersonalityChange{PersonalityFields: fields}
	changed := fields != store.PersonalityFields{}
	if _, ok := opts["display_name"]; ok {
		display, err := checkPersonalityDisplayName(in.String("display_name"))
		if err != nil {
			return err
		}
		acc, err := b.personalityAccessOf(ctx, in)
		if err != nil {
			return err
		}
		if err := b.clash(ctx, acc, access.ByDisplayName, display, p.OwnerID, p.ID, "The display name “%s” is already taken%s; choose another."); err != nil {
			return err
		}
		change.DisplayName = &display
		changed = true
	}
	if o, ok := opts["public"]; ok {
		public, isBool := o.Value.(bool)
		if !isBool {
			return UserError("public must be true or false.")
		}
		change.Public = &public
		changed = true
	}
	if !changed {
		return UserError("Nothing to change: give at least one of display_name, system_prompt, avatar_url, error_message or public.")
	}
	p, err = b.store.UpdatePersonality(ctx, p.ID, change)
	if err != nil {
		return err
	}
	b.personalities.invalidate()
	return in.Reply(fmt.Sprintf("Saved %s (`%s`). /personality view shows it.", personaName(p), p.Name))
}

func (b *Bot) personalityView(ctx context.Context, in *Interaction, p *ent.Personality) error {
	p, err := b.store.PersonalityDetails(ctx, p.ID)
	if err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "**%s** (`%s`)\n", personaName(p), p.Name)
	aliases := make([]string, 0, len(p.Edges.Aliases))
	for _, a := range p.Edges.Aliases {
		aliases = append(aliases, a.Alias)
	}
	if len(aliases) == 0 {
		sb.WriteString("Aliases: none\n")
	} else {
		fmt.Fprintf(&sb, "Aliases: %s\n", strings.Join(aliases, ", "))
	}
	if c := p.Edges.LlmConfig; c != nil {
		fmt.Fprintf(&sb, "Model: `%s`\n", c.Model)
	} else {
		sb.WriteString("Model: none yet (set one with /config personality)\n")
	}
	if o := p.Edges.Owner; o != nil {
		fmt.Fprintf(&sb, "Owner: <@%s>\n", o.DiscordID)
	} else {
		sb.WriteString("Owner: system\n")
	}
	fmt.Fprintf(&sb, "Public: %s\n", personalityYesNo(p.IsPublic))
	fmt.Fprintf(&sb, "Streaming: %s (/config personality streaming)\n", personalityYesNo(p.Streaming))
	if bd := personalityBirthday(p); bd != "" {
		fmt.Fprintf(&sb, "Birthday: %s\n", bd)
	}
	return in.Reply(sb.String())
}

func personalityYesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// birthday is "14 March" or "14 March 1990", "" when month or day is unknown.
func personalityBirthday(p *ent.Personality) string {
	if p.BirthMonth == nil || p.BirthDay == nil || *p.BirthMonth < 1 || *p.BirthMonth > 12 {
		return ""
	}
	s := fmt.Sprintf("%d %s", *p.BirthDay, time.Month(*p.BirthMonth))
	if p.BirthYear != nil {
		s += fmt.Sprintf(" %d", *p.BirthYear)
	}
	return s
}
