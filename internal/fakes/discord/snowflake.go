package discord

import (
	"strconv"
	"time"
)

// discordEpoch is the first millisecond of 2015, the origin of Discord ids.
const discordEpoch = 1420070400000

// snowflakes issues ids shaped like Discord's, so code that decodes the
// timestamp from an id or sorts ids numerically sees sensible values.
// Callers hold the server lock.
type snowflakes struct{ last uint64 }

func (g *snowflakes) next() string {
	ms := time.Now().UnixMilli() - discordEpoch
	if ms < 0 {
		ms = 0
	}
	id := uint64(ms)<<22 | 1<<17
	if id <= g.last {
		id = g.last + 1
	}
	g.last = id
	return strconv.FormatUint(id, 10)
}

func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// snowflakeLess orders ids numerically, which is their time order.
func snowflakeLess(a, b string) bool {
	x, errA := strconv.ParseUint(a, 10, 64)
	y, errB := strconv.ParseUint(b, 10, 64)
	if errA != nil || errB != nil {
		return a < b
	}
	return x < y
}
