package bot

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/config"
)

// shard sets the session's gateway shard from BOT_SHARD_ID and
// BOT_SHARD_COUNT (Discord's IDENTIFY `shard` array,
// https://discord.com/developers/docs/events/gateway#sharding) and returns
// it as [id, count]; BOT_SHARD_COUNT=auto takes the count Discord
// recommends in GET /gateway/bot's `shards`. Unset, the session is shard 0
// of 1: every guild and every DM. Errors: /gateway/bot failing, or an id
// not below the recommended count.
func (b *Bot) shard(ctx context.Context) ([2]int, error) {
	sh := b.Config.Shard()
	if !sh.Set {
		return [2]int{0, 1}, nil
	}
	count := int(sh.Count)
	if sh.Count == config.ShardCountAuto {
		gw, err := b.Session.GatewayBot(discordgo.WithContext(ctx))
		if err != nil {
			return [2]int{}, fmt.Errorf("ask Discord for the recommended shard count (BOT_SHARD_COUNT=auto): %w", err)
		}
		count = max(gw.Shards, 1)
		if sh.ID >= count {
			return [2]int{}, fmt.Errorf("BOT_SHARD_ID=%d is not below the %d shards Discord recommends (BOT_SHARD_COUNT=auto): run shards 0 to %d, or set the count", sh.ID, count, count-1)
		}
	}
	b.Session.ShardID, b.Session.ShardCount = sh.ID, count
	return [2]int{sh.ID, count}, nil
}

// registersCommands reports whether this shard registers the slash
// commands: shard 0 alone, so that M shards make one bulk overwrite, not M.
func registersCommands(shard [2]int) bool { return shard[0] == 0 }
