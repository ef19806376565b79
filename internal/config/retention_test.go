package config

import (
	"strings"
	"testing"
)

// RETENTION_DAYS is a whole number of days from 1, or unset (zero: keep
// everything); anything else is one line naming the variable at start.
func TestParseRetentionDays(t *testing.T) {
	for _, tc := range []struct {
		value   string
		want    Days
		wantErr string
	}{
		{"", 0, ""},
		{"   ", 0, ""},
		{"30", 30, ""},
		{" 1 ", 1, ""},
		{"0", 0, `RETENTION_DAYS must be a whole number of days ≥ 1, or unset to keep everything, got "0"`},
		{"-3", 0, `RETENTION_DAYS must be a whole number of days ≥ 1`},
		{"30d", 0, `got "30d"`},
		{"1.5", 0, `got "1.5"`},
	} {
		c, err := Parse(lookup(map[string]string{"RETENTION_DAYS": tc.value}))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("RETENTION_DAYS=%q: error %v, want none", tc.value, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n")):
			t.Errorf("RETENTION_DAYS=%q: error %v, want one line containing %q", tc.value, err, tc.wantErr)
		case err == nil && c.RetentionDays != tc.want:
			t.Errorf("RETENTION_DAYS=%q: %d days, want %d", tc.value, c.RetentionDays, tc.want)
		}
	}
	if got := Days(0).String() + " " + Days(7).String(); got != "unset 7" {
		t.Errorf("Days shown as %q in the masked log, want \"unset 7\"", got)
	}
}
