//go:build integration

package activities_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/config"
)

// The birthday line of the system prompt, through Generate (real PostgreSQL,
// the OpenRouter stand-in): "today" is the workflow's Now in the user's saved
// zone, and a 29 February birthday falls on 28 February in a common year.
func TestBirthdayInTheUsersCalendar(t *testing.T) {
	f := newFixture(t, config.GuestAll, "deepseek/deepseek-r1")
	f.storeKey(t, userKey, true)
	ctx := context.Background()
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		name       string
		month, day int
		zone       string
		now        string
		today      bool
	}{
		{"leap-day birthday on 28 February of a common year", 2, 29, "UTC", "2027-02-28T12:00:00Z", true},
		{"not on 1 March of a common year", 2, 29, "UTC", "2027-03-01T12:00:00Z", false},
		{"not on 27 February of a common year", 2, 29, "UTC", "2027-02-27T12:00:00Z", false},
		{"not on 28 February of a leap year", 2, 29, "UTC", "2028-02-28T12:00:00Z", false},
		{"on 29 February of a leap year", 2, 29, "UTC", "2028-02-29T12:00:00Z", true},
		{"2000 is a leap year (divisible by 400)", 2, 29, "UTC", "2000-02-29T00:00:00Z", true},
		{"2100 is not (divisible by 100)", 2, 29, "UTC", "2100-02-28T23:59:00Z", true},
		{"28 February in the user's zone while UTC is already 1 March", 2, 29, "America/New_York", "2027-03-01T03:00:00Z", true},
		{"1 March in the user's zone while UTC is still 28 February", 2, 29, "Pacific/Kiritimati", "2027-02-28T12:00:00Z", false},
		{"a legacy zone name, 23:30 on 28 February there", 2, 29, "Asia/Calcutta", "2027-02-28T18:00:00Z", true},
		{"half an hour later it is 1 March there", 2, 29, "Asia/Calcutta", "2027-02-28T19:00:00Z", false},
		{"a 28 February birthday in a leap year is still the 28th", 2, 28, "UTC", "2028-02-28T12:00:00Z", true},
		{"and not the 29th", 2, 28, "UTC", "2028-02-29T12:00:00Z", false},
		{"an ordinary birthday", 3, 14, "Europe/London", "2027-03-14T00:30:00Z", true},
		{"the day before it", 3, 14, "Europe/London", "2027-03-13T23:30:00Z", false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.db.Personality.Update().Where(personality.ID(f.kerach)).SetBirthMonth(int16(tc.month)).SetBirthDay(int16(tc.day)).ExecX(ctx)
			f.db.User.Update().Where(user.DiscordID(aliceID)).SetTimezone(tc.zone).ExecX(ctx)
			before := len(f.or.CallsFor(userKey))
			_, err := f.env.ExecuteActivity(f.acts.Generate, activities.GenerateInput{
				RequestID: fmt.Sprintf("birthday-%d", i), DiscordUserID: aliceID, Username: "alice", PersonalityID: f.kerach,
				ChannelID: channelID, Content: "hello there", Now: at(tc.now),
			})
			if err != nil {
				t.Fatal(err)
			}
			calls := f.or.CallsFor(userKey)
			if len(calls) != before+1 {
				t.Fatalf("%d provider calls, want one more than %d", len(calls), before)
			}
			body := string(calls[len(calls)-1].Body)
			wantDate := fmt.Sprintf("Your birthday is %s %d.", time.Month(tc.month), tc.day)
			if !strings.Contains(body, wantDate) {
				t.Errorf("prompt lacks %q: %s", wantDate, body)
			}
			if got := strings.Contains(body, "Today is your birthday."); got != tc.today {
				t.Errorf("today is the birthday: %v, want %v; prompt %s", got, tc.today, body)
			}
		})
	}
}
