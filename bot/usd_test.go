package bot_test

import (
	"testing"

	"github.com/tzurot/tzurot/bot"
)

// A cost reads as people write money: "—" when none was reported, a
// fraction of a cent to four decimals, cents from a dollar up.
func TestUSDFormat(t *testing.T) {
	for _, c := range []struct {
		in   *float64
		want string
	}{
		{nil, "—"},
		{new(0.0), "$0"},
		{new(0.00004), "<$0.0001"},
		{new(0.0042), "$0.0042"},
		{new(0.04), "$0.04"},
		{new(0.5), "$0.50"},
		{new(0.12345), "$0.1235"},
		{new(1.0), "$1.00"},
		{new(1234.5), "$1234.50"},
	} {
		if got := bot.USD(c.in); got != c.want {
			t.Errorf("usd(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
