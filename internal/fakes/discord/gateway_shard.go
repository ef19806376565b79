// Sharding as Discord routes it: the Identify `shard` array, which guilds
// and events each shard receives, and GET /gateway/bot's recommendation.

package discord

import (
	"strconv"
	"time"
)

// Gateway close codes of sharding
// (https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes).
const (
	closeInvalidShard     = 4010
	closeShardingRequired = 4011
)

// MaxGuildsPerShard is the most guilds Discord lets one shard hold; a bot in
// more must shard (https://discord.com/developers/docs/events/gateway#sharding).
const MaxGuildsPerShard = 2500

// sessionStartLimit is Discord's daily budget of Identify calls
// (GET /gateway/bot's session_start_limit.total for most bots).
const sessionStartLimit = 1000

// shard is a session's [shard_id, num_shards]; the zero value (no shard
// array in Identify) is shard 0 of 1.
type shard struct{ id, count int }

// valid reports whether Discord accepts the shard: 0 ≤ id < count.
func (s shard) valid() bool { return s.count >= 1 && s.id >= 0 && s.id < s.count }

// of is the shard of 1 when s was not given.
func shardOf(a *[2]int) shard {
	if a == nil {
		return shard{0, 1}
	}
	return shard{a[0], a[1]}
}

// receives reports whether the shard receives an event of guildID — by
// Discord's formula shard_id = (guild_id >> 22) % num_shards — or, for an
// event without a guild (a DM, an interaction in a DM), whether it is
// shard 0, which alone receives those.
func (s shard) receives(guildID string) bool {
	if guildID == "" {
		return s.id == 0
	}
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil {
		return s.id == 0
	}
	return int((id>>22)%uint64(max(s.count, 1))) == s.id
}

// ShardOf is the shard of count that receives the events of guildID, by
// Discord's formula (guild_id >> 22) % num_shards; -1 for an id that is not
// a snowflake.
func ShardOf(guildID string, count int) int {
	id, err := strconv.ParseUint(guildID, 10, 64)
	if err != nil || count < 1 {
		return -1
	}
	return int((id >> 22) % uint64(count))
}

// shardGuildsLocked are the guilds the shard holds.
func (h *gatewayHub) shardGuildsLocked(s shard) []Guild {
	var out []Guild
	for _, g := range h.guilds {
		if s.receives(g.ID) {
			out = append(out, g)
		}
	}
	return out
}

// refuseShardLocked closes c as Discord does when Identify's shard is not
// [id, count] with 0 ≤ id < count (4010), or leaves it more than
// MaxGuildsPerShard guilds (4011). It reports whether it closed c.
func (h *gatewayHub) refuseShardLocked(c *gatewayConn, s shard) bool {
	switch {
	case !s.valid():
		c.close(closeInvalidShard, "Invalid shard.")
	case len(h.shardGuildsLocked(s)) > MaxGuildsPerShard:
		c.close(closeShardingRequired, "Sharding required.")
	default:
		return false
	}
	return true
}

// gatewayBot answers GET /gateway/bot with Discord's documented shape: the
// websocket URL, the recommended shard count (Options.RecommendedShards,
// else one per MaxGuildsPerShard guilds added, at least 1) and the
// session_start_limit — total, remaining (less each accepted Identify),
// reset_after in milliseconds and max_concurrency (Options.MaxConcurrency,
// else 1): how many shards may identify per 5 seconds.
func (s *Server) gatewayBot(c *call) reply {
	s.gw.mu.Lock()
	shards := s.opts.RecommendedShards
	if shards < 1 {
		shards = max(1, (len(s.gw.guilds)+MaxGuildsPerShard-1)/MaxGuildsPerShard)
	}
	started, resetAfter := 0, 24*time.Hour
	var first time.Time
	for _, id := range s.gw.identifies {
		if id.Accepted {
			if started == 0 {
				first = id.Time
			}
			started++
		}
	}
	s.gw.mu.Unlock()
	if started > 0 {
		resetAfter = max(0, 24*time.Hour-time.Since(first))
	}
	concurrency := max(1, s.opts.MaxConcurrency)
	return jsonReply(200, map[string]any{
		"url":    gatewayURLFor(c.r),
		"shards": shards,
		"session_start_limit": map[string]any{
			"total":           sessionStartLimit,
			"remaining":       max(0, sessionStartLimit-started),
			"reset_after":     resetAfter.Milliseconds(),
			"max_concurrency": concurrency,
		},
	})
}
