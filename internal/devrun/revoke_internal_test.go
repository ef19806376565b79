//go:build integration

package devrun

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/devchat"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/testdb"
)

// !revoke makes the stand-in refuse exactly the key the chat's user stored.
func TestRevokeStoredKey(t *testing.T) {
	const key = "sk-or-v1-5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed"
	ctx := context.Background()
	db, _ := testdb.ClientFor(t, testdb.URL(t))
	keys, err := keycrypt.NewKeyring(strings.Repeat("ab", 32), "")
	if err != nil {
		t.Fatal(err)
	}
	fake := fakeopenrouter.New(fakeopenrouter.Options{AcceptAnyKey: true})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	status := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/key", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if msg, err := revokeStoredKey(ctx, db, keys, fake); err != nil || !strings.Contains(msg, "no active OpenRouter key") {
		t.Errorf("with no key: %q, %v", msg, err)
	}
	u := db.User.Create().SetDiscordID(devchat.ChatUserID).SetUsername(devchat.ChatUsername).SaveX(ctx)
	sealed, err := keys.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	db.UserAPIKey.Create().SetUserID(u.ID).SetProvider("openrouter").
		SetIv(sealed.IV).SetContent(sealed.Content).SetTag(sealed.Tag).ExecX(ctx)
	if got := status(); got != http.StatusOK {
		t.Fatalf("before !revoke the stand-in answered %d", got)
	}
	if msg, err := revokeStoredKey(ctx, db, keys, fake); err != nil || !strings.Contains(msg, "refuses your stored key") {
		t.Fatalf("revoke: %q, %v", msg, err)
	}
	if got := status(); got != http.StatusUnauthorized {
		t.Errorf("after !revoke the stand-in answered %d, want 401", got)
	}
	if on, stored := chatKeys(ctx, db)["openrouter"]; !stored || !on {
		t.Error("chatKeys: the stored key is not seen switched on")
	}
	// Switched off (the reply after !revoke does this), the banner says so.
	db.UserAPIKey.Update().SetIsActive(false).ExecX(ctx)
	if b := banner("@demo hello", true, chatKeys(ctx, db)); !strings.Contains(b, "switched off") {
		t.Errorf("banner after the key was switched off:\n%s", b)
	}
	if msg, err := revokeStoredKey(ctx, db, keys, fake); err != nil || !strings.Contains(msg, "no active OpenRouter key") {
		t.Errorf("with the key switched off: %q, %v", msg, err)
	}
}
