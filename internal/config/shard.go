package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ShardCount is BOT_SHARD_COUNT: a number of gateway shards, or
// [ShardCountAuto] for the count Discord recommends.
type ShardCount int

// ShardCountAuto is BOT_SHARD_COUNT=auto: the bot asks Discord's
// GET /gateway/bot for its recommended `shards` at start.
const ShardCountAuto ShardCount = -1

// String is the value as BOT_SHARD_COUNT takes it.
func (c ShardCount) String() string {
	if c == ShardCountAuto {
		return "auto"
	}
	return strconv.Itoa(int(c))
}

// parseShardCount reads BOT_SHARD_COUNT: "auto" (any case) or a whole
// number ≥ 1.
func parseShardCount(v string) (any, error) {
	if strings.EqualFold(v, "auto") {
		return ShardCountAuto, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return ShardCount(0), fmt.Errorf("must be a whole number ≥ 1 or auto, got %q", v)
	}
	return ShardCount(n), nil
}

// Shard is this bot process's gateway shard (Discord's IDENTIFY `shard`
// array, https://discord.com/developers/docs/events/gateway#sharding): ID
// in 0..Count-1, Count ≥ 1 or [ShardCountAuto]. Set is false when
// BOT_SHARD_ID and BOT_SHARD_COUNT are unset: one process, every guild.
type Shard struct {
	ID    int
	Count ShardCount
	Set   bool
}

// Shard is the configured shard; Parse has checked it.
func (c Config) Shard() Shard {
	return Shard{ID: c.BotShardID, Count: c.BotShardCount, Set: c.Set["BOT_SHARD_ID"]}
}

// checkShard applies the rules between BOT_SHARD_ID and BOT_SHARD_COUNT:
// both set or neither, and the id below a fixed count (with auto, the bot
// checks it against Discord's count at start). A count that did not parse
// has its own error line already, so none is added here.
func (c Config) checkShard() error {
	id, count := c.Set["BOT_SHARD_ID"], c.Set["BOT_SHARD_COUNT"]
	switch {
	case id != count:
		return errors.New("BOT_SHARD_ID and BOT_SHARD_COUNT go together: set both (e.g. 0 and 2 for the first of two shards) or neither (one process, every guild)")
	case !id:
		return nil
	case c.BotShardCount < 1:
		// auto, or a count parseShardCount refused (already reported).
		return nil
	case c.BotShardID >= int(c.BotShardCount):
		return fmt.Errorf("BOT_SHARD_ID must be below BOT_SHARD_COUNT (shards are numbered from 0), got %d of %d", c.BotShardID, c.BotShardCount)
	}
	return nil
}
