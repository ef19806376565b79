package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/provider"
	"github.com/tzurot/tzurot/internal/searchattr"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/workflows"
)

const walletModalPrefix = "wallet"

// walletProviders are the providers a key can be stored for (internal/provider).
func walletProviders() []*discordgo.ApplicationCommandOptionChoice {
	out := make([]*discordgo.ApplicationCommandOptionChoice, len(provider.All()))
	for i, p := range provider.All() {
		out[i] = &discordgo.ApplicationCommandOptionChoice{Name: p.Choice, Value: p.ID}
	}
	return out
}

// checkKeyShape refuses, before any workflow, what cannot be the provider's
// key: the wrong provider's key pasted, or something that is not a key
// (provider.CheckShape).
func checkKeyShape(id, key string) error {
	p, ok := provider.Get(id)
	if !ok {
		return UserError("%s", provider.Supported())
	}
	if why := p.CheckShape(key); why != "" {
		return UserError("%s", why)
	}
	return nil
}

func (b *Bot) walletCommand() *command {
	provider := &discordgo.ApplicationCommandOption{
		Type: discordgo.ApplicationCommandOptionString, Name: "provider", Description: "Which service the key is for",
		Choices: walletProviders(),
	}
	return &command{
		def: &discordgo.ApplicationCommand{
			Name: "wallet", Description: "Your own API keys: replies to you are paid with them",
			Options: []*discordgo.ApplicationCommandOption{
				subcommand("set", "Store your API key (asked for in a private form, checked before it is saved)", provider),
				subcommand("list", "Show which keys you have stored (never the keys themselves)"),
				subcommand("remove", "Delete a stored key", provider),
				subcommand("test", "Check your stored key again, and switch it back on if it works", provider),
			},
		},
		run: b.wallet_,
	}
}

func (b *Bot) wallet_(ctx context.Context, in *Interaction) error {
	id := cmp.Or(in.String("provider"), provider.Default().ID)
	// Discord offers only the choices, but an outdated client or a hand-made
	// request can send anything: every subcommand that takes one refuses it.
	p, ok := provider.Get(id)
	if !ok && in.Subcommand() != "list" {
		return UserError("%s", provider.Supported())
	}
	switch in.Subcommand() {
	case "set":
		// The key goes in a modal, never a command option: options are shown
		// in the channel's command preview and kept in client history.
		return in.Modal(walletModalPrefix+":set:"+p.ID, p.FormTitle, discordgo.TextInput{
			CustomID: "key", Label: p.FormLabel, Style: discordgo.TextInputShort,
			Placeholder: p.FormPlaceholder, Required: true, MinLength: p.MinKeyLen, MaxLength: p.MaxKeyLen,
		})
	case "list":
		return b.walletList(ctx, in)
	case "remove":
		return b.walletRemove(ctx, in, p)
	case "test":
		return b.walletTest(ctx, in, p)
	}
	return UserError("Unknown /wallet subcommand.")
}

// walletModalSubmit receives the key: defer privately at once, seal it, and
// run ValidateAPIKey, answering when it finishes.
func (b *Bot) walletModalSubmit(ctx context.Context, in *Interaction) error {
	data := in.ModalSubmitData()
	parts := strings.Split(data.CustomID, ":")
	if len(parts) != 3 || parts[1] != "set" {
		return UserError("That form has expired; run /wallet set again.")
	}
	provider := parts[2]
	key := strings.TrimSpace(modalValue(data, "key"))
	if err := b.allowWalletWrite(in.UserID); err != nil {
		return err
	}
	if err := checkKeyShape(provider, key); err != nil {
		return err
	}
	if err := in.Defer(); err != nil {
		return err
	}
	sealed, err := b.Keys.Seal(key)
	if err != nil {
		return err
	}
	return b.validate(ctx, in, provider, sealed, false)
}

// validate runs ValidateAPIKey for the invoking user and reports its
// outcome; retest is /wallet test's check of the key already stored.
func (b *Bot) validate(ctx context.Context, in *Interaction, provider string, sealed keycrypt.Sealed, retest bool) error {
	// Within the 15-minute follow-up window of the interaction.
	ctx, cancel := context.WithTimeout(ctx, 14*time.Minute)
	defer cancel()
	input := workflows.ValidateAPIKeyInput{DiscordUserID: in.UserID, Provider: provider, SealedKey: sealed, Retest: retest}
	run, err := b.attrs.Start(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.ValidateAPIKeyID(in.UserID, provider),
		TaskQueue:                                b.Config.TemporalTaskQueue,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            keyCheckSummary(in.Username, provider, retest),
		StaticDetails:                            fmt.Sprintf("Checks user %s's %s key with the provider; stores it only when it works.", in.UserID, provider),
	}, workflows.ValidateAPIKeyName, func(set searchattr.Set) any {
		input.SearchAttributes = set
		return input
	}, startValues(in.UserID, "", searchattr.KeyUser)...)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return UserError("A check of your key is already running; wait for its answer, then try again if you need to.")
	}
	if err != nil {
		return fmt.Errorf("start ValidateAPIKey: %w", err)
	}
	var res workflows.ValidateAPIKeyResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("ValidateAPIKey: %w", err)
	}
	return in.Reply(res.Message)
}

func (b *Bot) allowWalletWrite(userID string) error {
	ok, retry := b.wallet.Allow(userID, b.Now())
	if !ok {
		return UserError("You have changed your keys %d times in 15 minutes; try again <t:%d:R>.", b.Config.LimitWalletWritesPer15Min, retry.Unix())
	}
	return nil
}

func (b *Bot) walletList(ctx context.Context, in *Interaction) error {
	keys, err := b.store.Keys(ctx, in.UserID)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return in.Reply("You have no keys stored. Add one with /wallet set.")
	}
	var sb strings.Builder
	sb.WriteString("Your keys:\n")
	for _, k := range keys {
		state := "active"
		if !k.IsActive {
			state = "switched off (rejected by the provider; fix it, then /wallet test)"
		}
		used := "never used"
		if k.LastUsedAt != nil {
			used = fmt.Sprintf("last used <t:%d:R>", k.LastUsedAt.Unix())
		}
		fmt.Fprintf(&sb, "• %s: %s, %s\n", provider.NameOf(k.Provider), state, used)
	}
	return in.Reply(sb.String())
}

func (b *Bot) walletRemove(ctx context.Context, in *Interaction, p provider.Provider) error {
	if err := b.allowWalletWrite(in.UserID); err != nil {
		return err
	}
	n, err := b.store.DeleteKey(ctx, in.UserID, p.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return in.Reply(fmt.Sprintf("You have no %s key stored; nothing to remove.", p.Name))
	}
	return in.Reply(fmt.Sprintf("Your %s key is deleted. Replies to you no longer use it.", p.Name))
}

// walletTest re-validates the stored key through the same workflow, which
// stores it again — active — when it passes.
func (b *Bot) walletTest(ctx context.Context, in *Interaction, p provider.Provider) error {
	if err := b.allowWalletWrite(in.UserID); err != nil {
		return err
	}
	k, err := b.store.Key(ctx, in.UserID, p.ID)
	if err != nil {
		return UserError("You have no %s key stored. Add one with /wallet set%s.", p.Name, p.WalletOption)
	}
	if err := in.Defer(); err != nil {
		return err
	}
	return b.validate(ctx, in, p.ID, store.Sealed(k), true)
}

func modalValue(data discordgo.ModalSubmitInteractionData, id string) string {
	for _, row := range data.Components {
		r, ok := row.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, c := range r.Components {
			if ti, ok := c.(*discordgo.TextInput); ok && ti.CustomID == id {
				return ti.Value
			}
		}
	}
	return ""
}
