package msglink

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	const g, c, m = "111111111111111111", "222222222222222222", "333333333333333333"
	for _, tc := range []struct {
		name, text string
		want       []Link
	}{
		{"discord.com", "see https://discord.com/channels/" + g + "/" + c + "/" + m + " there", []Link{{g, c, m}}},
		{"ptb", "https://ptb.discord.com/channels/" + g + "/" + c + "/" + m, []Link{{g, c, m}}},
		{"canary", "https://canary.discord.com/channels/" + g + "/" + c + "/" + m, []Link{{g, c, m}}},
		{"discordapp.com", "<https://discordapp.com/channels/" + g + "/" + c + "/" + m + ">", []Link{{g, c, m}}},
		{"DM", "https://discord.com/channels/@me/" + c + "/" + m, []Link{{"@me", c, m}}},
		{"twice, once kept", "https://discord.com/channels/" + g + "/" + c + "/" + m + " https://ptb.discord.com/channels/" + g + "/" + c + "/" + m, []Link{{g, c, m}}},
		{"channel link only", "https://discord.com/channels/" + g + "/" + c, nil},
		{"other host", "https://evil.example/channels/" + g + "/" + c + "/" + m, nil},
		{"http", "http://discord.com/channels/" + g + "/" + c + "/" + m, nil},
		{"lookalike host", "https://notdiscord.com/channels/" + g + "/" + c + "/" + m, nil},
	} {
		if got := Parse(tc.text); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Parse = %v, want %v", tc.name, got, tc.want)
		}
	}
}
