package deliverykey_test

import (
	"testing"

	"github.com/tzurot/tzurot/internal/deliverykey"
)

func TestBuildAndParse(t *testing.T) {
	cases := []struct {
		key  string
		want deliverykey.Key
	}{
		{deliverykey.Part(deliverykey.New("reply/123", deliverykey.Reply), 0), deliverykey.Key{Workflow: "reply/123", Purpose: "reply", Part: 0}},
		{deliverykey.Part(deliverykey.New("reply/123-abcd1234", deliverykey.Reply), 12), deliverykey.Key{Workflow: "reply/123-abcd1234", Purpose: "reply", Part: 12}},
		{deliverykey.New("imagine/42", deliverykey.Post), deliverykey.Key{Workflow: "imagine/42", Purpose: "post", Part: -1}},
		{deliverykey.New("reply/7", deliverykey.VoiceDM), deliverykey.Key{Workflow: "reply/7", Purpose: "voice-dm", Part: -1}},
	}
	for _, c := range cases {
		got, err := deliverykey.Parse(c.key)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.key, got, err, c.want)
		}
		if got.String() != c.key {
			t.Errorf("Parse(%q).String() = %q", c.key, got.String())
		}
	}
	if got := deliverykey.Part(deliverykey.New("reply/123", deliverykey.Reply), 0); got != "reply/123/reply/0" {
		t.Errorf("the stored form changed: %q (rows written before would no longer be found)", got)
	}
	for _, bad := range []string{"", "reply", "/reply", "reply/", "7"} {
		if k, err := deliverykey.Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, k)
		}
	}
}
