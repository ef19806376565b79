//go:build integration

package bot_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/bot"
	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/config"
	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/openrouter"
	"github.com/tzurot/tzurot/internal/testdb"
	"github.com/tzurot/tzurot/workflows"
)

// The reply path's database work, as the code issues it: the bot's routing
// and GenerateReply's activities, on a PostgreSQL database loaded like a
// long-running deployment's, every statement recorded by the driver.

const (
	rdGuild       = "1300000000000000009"
	rdChannel     = "910000000000000001" // the guild channel replies go to
	rdDM          = "920000000000000001" // a DM channel with the bot
	rdGuest       = "210000000000000001" // no key: answered on the operator's key
	rdKeyed       = "210000000000000002" // own OpenRouter key and /config overrides
	rdOperatorKey = "sk-or-v1-operator0000"
	rdUserKey     = "sk-or-v1-keyedusr0000"
	rdImageModel  = "google/gemini-2.5-flash-image-preview"
	// An earlier exchange in rdChannel whose reply was split: its second
	// message is known only to deliveries.
	rdEarlierUserMsg = "510000000000000001"
	rdEarlierReply   = "610000000000000001"
	rdEarlierSecond  = "610000000000000002"
	// Every row of history beyond this many for one lookup means its cost
	// grows with the data rather than with what it returns (a reply reads at
	// most max_conversation_history, 500, turns).
	rdMaxRowsRead = 1000
)

// replyDB is one database with the reply path's clients on it.
type replyDB struct {
	url   string
	admin *sql.DB // not recorded: loading, EXPLAIN
	rec   *testdb.Recorder
	acts  *activities.Activities
	bot   *bot.Bot
	env   *testsuite.TestActivityEnvironment
	dc    *fakediscord.Server
	// kerach is the personality replies come from: an alias, a voice and
	// images.
	kerach uuid.UUID
	seq    atomic.Int64
}

// loadSpec says how large a deployment to imitate.
type loadSpec struct {
	history int // conversation_history rows, and as many deliveries
	// personalities, users and usage_logs rows; user_api_keys and
	// user_personality_configs get one row per user.
	personalities, users, usage int
	// bigDM puts 5,000 turns of 50 personalities in rdDM, and 5,000 old
	// usage rows on rdGuest: the shapes that make a lookup read a whole
	// channel or a user's whole usage when its index bound is missing.
	bigDM bool
	// without0015 loads the data and leaves migration 0015's indexes out, for
	// the before/after benchmark.
	without0015 bool
}

func newReplyDB(tb testing.TB, spec loadSpec) *replyDB {
	tb.Helper()
	ctx := context.Background()
	r := &replyDB{url: testdb.URL(tb)}
	admin, err := sql.Open("postgres", r.url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close() })
	r.admin = admin

	keys, err := keycrypt.NewKeyring(strings.Repeat("5a", 32), "")
	if err != nil {
		tb.Fatal(err)
	}
	adminEnt := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, admin)))
	p := adminEnt.Personality.Create().SetName("cold-kerach").SetDisplayName("Kerach").
		SetSystemPrompt("You are cold.").SetVoiceEnabled(true).SaveX(ctx)
	r.kerach = p.ID
	adminEnt.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").ExecX(ctx)
	adminEnt.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias("Kerach").ExecX(ctx)
	adminEnt.VoiceConfig.Create().SetPersonalityID(p.ID).SetVoiceID("voice-1").SetFrequency(1).ExecX(ctx)
	adminEnt.ImageConfig.Create().SetPersonalityID(p.ID).SetModel(rdImageModel).SetEnabled(true).ExecX(ctx)
	adminEnt.User.Create().SetDiscordID(rdGuest).ExecX(ctx)
	keyed := adminEnt.User.Create().SetDiscordID(rdKeyed).SaveX(ctx)
	sealed, err := keys.Seal(rdUserKey)
	if err != nil {
		tb.Fatal(err)
	}
	adminEnt.UserAPIKey.Create().SetUserID(keyed.ID).SetIv(sealed.IV).SetContent(sealed.Content).SetTag(sealed.Tag).ExecX(ctx)
	adminEnt.UserPersonalityConfig.Create().SetUserID(keyed.ID).SetPersonalityID(p.ID).
		SetAdvancedParameters(map[string]any{"temperature": 0.5}).ExecX(ctx)
	// The earlier exchange replies refer to, and kerach's last word in the DM.
	adminEnt.ConversationHistory.Create().SetChannelID(rdChannel).SetPersonalityID(p.ID).SetRole("user").
		SetContent("tell me a long story").SetDiscordMessageID(rdEarlierUserMsg).ExecX(ctx)
	adminEnt.ConversationHistory.Create().SetChannelID(rdChannel).SetPersonalityID(p.ID).SetRole("assistant").
		SetContent("once upon a time…").SetDiscordMessageID(rdEarlierReply).ExecX(ctx)
	adminEnt.Delivery.Create().SetKey(workflows.GenerateReplyID(rdEarlierUserMsg) + "/reply/1").
		SetChannelID(rdChannel).SetDiscordMessageID(rdEarlierSecond).ExecX(ctx)

	if spec != (loadSpec{}) {
		start := time.Now()
		if err := loadDeployment(ctx, admin, spec); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("loaded %d history rows and deliveries in %s", spec.history, time.Since(start).Round(time.Second))
	}
	// Kerach speaks last in the DM, after everything loaded.
	adminEnt.ConversationHistory.Create().SetChannelID(rdDM).SetPersonalityID(p.ID).SetRole("assistant").
		SetContent("you again").ExecX(ctx)
	if _, err := admin.ExecContext(ctx, "ANALYZE"); err != nil {
		tb.Fatal(err)
	}

	// The clients under test, on the recording pool.
	db, rec := testdb.RecordingDB(tb, r.url)
	r.rec = rec
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, db)))
	or := fakeopenrouter.New(fakeopenrouter.Options{})
	or.AddKey(rdOperatorKey, fakeopenrouter.Key{})
	or.AddKey(rdUserKey, fakeopenrouter.Key{})
	orSrv := httptest.NewServer(or)
	tb.Cleanup(orSrv.Close)
	r.dc = fakediscord.New(fakediscord.Options{})
	dcSrv := httptest.NewServer(r.dc)
	tb.Cleanup(dcSrv.Close)
	session, err := discordhttp.Session("test-token", dcSrv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	r.acts = &activities.Activities{
		DB: client, SQL: db, Keys: keys, Discord: session, Log: log,
		OpenRouter:  openrouter.New(openrouter.Options{BaseURL: orSrv.URL + "/api/v1"}),
		GuestMode:   config.GuestFree,
		OperatorKey: rdOperatorKey,
		Limits:      activities.Limits{GuestTokensPerDay: 1 << 30, ImagesPerHour: 1 << 20},
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(log))
	r.env = suite.NewTestActivityEnvironment()
	r.env.RegisterActivity(r.acts)
	r.bot = bot.New(bot.Deps{Session: session, DB: client, Keys: keys, Log: log})
	return r
}

// loadDeployment fills the tables with generate_series, foreign-key triggers
// off (the rows are consistent by construction), and builds the indexes of
// the two big tables after the rows are in, as a bulk load should.
func loadDeployment(ctx context.Context, db *sql.DB, s loadSpec) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(q string, args ...any) error {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("load: %w\n%s", err, q)
		}
		return nil
	}
	if err := exec(`SET session_replication_role = replica; SET maintenance_work_mem = '256MB'`); err != nil {
		return err
	}
	rebuild, err := dropIndexes(ctx, conn, s.without0015)
	if err != nil {
		return err
	}
	steps := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO personalities (name, display_name) SELECT 'load-' || i, 'Load ' || i FROM generate_series(0, $1 - 1) i`, []any{s.personalities}},
		{`CREATE TEMP TABLE lp AS SELECT id, substr(name, 6)::int AS k FROM personalities WHERE name LIKE 'load-%'`, nil},
		{`INSERT INTO llm_configs (personality_id, model) SELECT id, 'openrouter/free' FROM lp`, nil},
		{`INSERT INTO personality_aliases (personality_id, alias) SELECT id, 'load-alias-' || k FROM lp`, nil},
		{`INSERT INTO voice_configs (personality_id, voice_id) SELECT id, 'voice-' || k FROM lp`, nil},
		{`INSERT INTO image_configs (personality_id, model) SELECT id, 'm' FROM lp`, nil},
		{`INSERT INTO users (discord_id) SELECT (300000000000000000 + i)::text FROM generate_series(0, $1 - 1) i`, []any{s.users}},
		{`CREATE TEMP TABLE lu AS SELECT id, (discord_id::bigint - 300000000000000000)::int AS k FROM users WHERE discord_id LIKE '3%'`, nil},
		{`INSERT INTO user_api_keys (user_id, iv, content, tag) SELECT id, repeat('0', 24), 'aa', repeat('0', 32) FROM lu`, nil},
		{`INSERT INTO user_personality_configs (user_id, personality_id) SELECT lu.id, lp.id FROM lu JOIN lp ON lp.k = lu.k % $1`, []any{s.personalities}},
		{`INSERT INTO usage_logs (user_id, provider, model, tokens_in, tokens_total, request_type, timestamp)
			SELECT lu.id, 'openrouter', 'm', 10, 10, 'text', now() - interval '1 hour' * (i % 2000)
			FROM generate_series(0, $1 - 1) i JOIN lu ON lu.k = i % $2`, []any{s.usage, s.users}},
		// 100 turns per channel, one personality per channel, a second apart;
		// every delivery is the second message of the reply to one turn.
		{`INSERT INTO conversation_history (channel_id, personality_id, role, content, discord_message_id, created_at)
			SELECT (400000000000000000 + i / 100)::text, lp.id, CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
			       'loaded turn ' || i, (500000000000000000 + i)::text, now() - interval '1 second' * ($1 - i)
			FROM generate_series(0, $1 - 1) i JOIN lp ON lp.k = (i / 100) % $2`, []any{s.history, s.personalities}},
		{`INSERT INTO deliveries (key, channel_id, discord_message_id, created_at)
			SELECT 'reply/' || (500000000000000000 + i)::text || '/reply/1', (400000000000000000 + i / 100)::text,
			       (600000000000000000 + i)::text, now() - interval '1 second' * ($1 - i)
			FROM generate_series(0, $1 - 1) i`, []any{s.history}},
		// A deny list of 20,000 users and guilds: every message and
		// reply looks itself up in it.
		{`INSERT INTO denials (kind, discord_id, denied_by)
			SELECT CASE WHEN i % 2 = 0 THEN 'user' ELSE 'guild' END, (700000000000000000 + i)::text, '1'
			FROM generate_series(0, 19999) i`, nil},
	}
	if s.bigDM {
		steps = append(steps,
			struct {
				q    string
				args []any
			}{`INSERT INTO conversation_history (channel_id, personality_id, role, content, created_at)
				SELECT $1, lp.id, 'assistant', 'old DM turn', now() - interval '1 minute' * (5000 - i)
				FROM generate_series(0, 4999) i JOIN lp ON lp.k = i % 50`, []any{rdDM}},
			struct {
				q    string
				args []any
			}{`INSERT INTO usage_logs (user_id, provider, model, tokens_total, request_type, timestamp)
				SELECT id, 'openrouter', 'm', 10, 'text', now() - interval '40 days' - interval '1 minute' * i
				FROM users, generate_series(0, 4999) i WHERE discord_id = $1`, []any{rdGuest}})
	}
	for _, st := range steps {
		if err := exec(st.q, st.args...); err != nil {
			return err
		}
	}
	for _, q := range rebuild {
		if err := exec(q); err != nil {
			return err
		}
	}
	return exec(`RESET session_replication_role; RESET maintenance_work_mem`)
}

// migration0015 are the indexes of migrations/0015_reply_path_indexes.sql.
var migration0015 = []string{
	"conversationhistory_channel_id_created_at", "conversationhistory_discord_message_id",
	"delivery_discord_message_id", "personalities_name_lower", "personalities_display_name_lower",
}

// sameExpression are the indexes of later migrations that a plan can use in
// place of an index of migration 0015: the trigram indexes of 0023 serve
// equality on the same expression (pg_trgm 1.4), and 0022's
// conversationhistory_created_at can be walked backwards with a filter on
// the channel, a plan whose cost the check's LIMIT bound does not tell apart.
var sameExpression = map[string][]string{
	"personalities_name_lower":                  {"personalities_name_trgm"},
	"personalities_display_name_lower":          {"personalities_display_name_trgm"},
	"conversationhistory_channel_id_created_at": {"conversationhistory_created_at"},
}

// dropIndexes drops the indexes of conversation_history and deliveries and
// returns the statements that build them again, less migration 0015's when
// without0015; with it, 0015's personalities indexes are dropped too.
func dropIndexes(ctx context.Context, conn *sql.Conn, without0015 bool) ([]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT tablename, indexname, indexdef FROM pg_indexes
		WHERE schemaname = 'public' AND tablename IN ('conversation_history', 'deliveries', 'personalities')`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var drops, rebuild []string
	for rows.Next() {
		var table, name, def string
		if err := rows.Scan(&table, &name, &def); err != nil {
			return nil, err
		}
		in0015 := false
		for _, n := range migration0015 {
			in0015 = in0015 || n == name
		}
		switch {
		case table == "personalities" && !(in0015 && without0015):
			continue // built with the table's few rows
		case strings.HasSuffix(name, "_pkey"):
			drops = append(drops, fmt.Sprintf(`ALTER TABLE %q DROP CONSTRAINT %q`, table, name))
			rebuild = append(rebuild, fmt.Sprintf(`ALTER TABLE %q ADD CONSTRAINT %q PRIMARY KEY (id)`, table, name))
		default:
			drops = append(drops, fmt.Sprintf(`DROP INDEX %q`, name))
			if !(in0015 && without0015) {
				rebuild = append(rebuild, def)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, q := range drops {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return rebuild, nil
}

func (r *replyDB) nextID() string { return fmt.Sprintf("7%017d", r.seq.Add(1)) }

func (r *replyDB) activity(tb testing.TB, out any, fn any, args ...any) {
	tb.Helper()
	v, err := r.env.ExecuteActivity(fn, args...)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	if out != nil {
		if err := v.Get(out); err != nil {
			tb.Fatal(err)
		}
	}
}

func (r *replyDB) route(tb testing.TB, m *discordgo.Message) {
	tb.Helper()
	ids, err := r.bot.RouteTo(context.Background(), m)
	if err != nil || len(ids) != 1 || ids[0] != r.kerach {
		tb.Fatalf("route %s: %v, %v; want kerach %s", m.ID, ids, err, r.kerach)
	}
}

// reply is the database work of one reply: a reply in a guild channel to
// the second message of a split reply of kerach's (routed through
// deliveries), a DM routed to the last personality there, then
// GenerateReply's activities in its order for a guest user: resolve the
// personality, generate within the guest allowance, post, save the turns.
func (r *replyDB) reply(tb testing.TB) {
	tb.Helper()
	msgID := r.nextID()
	author := &discordgo.User{ID: rdGuest, Username: "guest"}
	r.route(tb, &discordgo.Message{ID: msgID, ChannelID: rdChannel, GuildID: rdGuild, Content: "and then?",
		Author: author, MessageReference: &discordgo.MessageReference{MessageID: rdEarlierSecond, ChannelID: rdChannel}})
	r.route(tb, &discordgo.Message{ID: r.nextID(), ChannelID: rdDM, Content: "still there?", Author: author})

	var p activities.PersonalityRef
	r.activity(tb, &p, r.acts.ResolvePersonality, activities.ResolvePersonalityInput{Ref: r.kerach.String(), DiscordUserID: "100000000000000001"})
	var gen activities.GenerateOutput
	r.activity(tb, &gen, r.acts.GenerateWithinLimits, activities.GenerateInput{
		RequestID: msgID, DiscordUserID: rdGuest, Username: "guest", PersonalityID: p.ID,
		ChannelID: rdChannel, Content: "and then?", Now: time.Now(),
	})
	var posted string
	r.activity(tb, &posted, r.acts.PostReply, activities.PostReplyInput{
		DeliveryKey: workflows.GenerateReplyID(msgID) + "/reply", ChannelID: rdChannel,
		Username: p.DisplayName, Content: gen.Text,
	})
	r.activity(tb, nil, r.acts.SaveTurns, activities.SaveTurnsInput{
		PersonalityID: p.ID, ChannelID: rdChannel, GuildID: rdGuild, DiscordUserID: rdGuest, Username: "guest",
		UserContent: "and then?", UserMessageID: msgID, ReplyContent: gen.Text, ReplyMessageID: posted,
	})
}

// otherPaths is the rest of the reply path's database work: a personality
// named by name, alias or display name (any case), a user with their own key and
// /config overrides, a voiced reply, an image, a DM and a key switched off.
func (r *replyDB) otherPaths(tb testing.TB) {
	tb.Helper()
	var p activities.PersonalityRef
	r.activity(tb, &p, r.acts.ResolvePersonality, activities.ResolvePersonalityInput{Ref: "Cold-Kerach", DiscordUserID: "100000000000000001"})
	r.activity(tb, &p, r.acts.ResolvePersonality, activities.ResolvePersonalityInput{Ref: "@KERACH", DiscordUserID: "100000000000000001"})
	// /config and /personality: a display name, after the name and the alias
	// found nothing.
	if found, err := r.bot.FindPersonality(context.Background(), "LOAD 7"); err != nil || found.Name != "load-7" {
		tb.Fatalf("find by display name: %v, %v", found, err)
	}
	// The typing indicator asks once a second whether the reply is posted.
	r.bot.ReplyPosted(context.Background(), "500000000000000077")
	msgID := r.nextID()
	var gen activities.GenerateOutput
	r.activity(tb, &gen, r.acts.GenerateWithinLimits, activities.GenerateInput{
		RequestID: msgID, DiscordUserID: rdKeyed, Username: "keyed", PersonalityID: r.kerach,
		ChannelID: rdChannel, Content: "hi", Now: time.Now(),
	})
	if gen.KeySource != activities.KeyFromUser {
		tb.Fatalf("keyed user answered on the %s key", gen.KeySource)
	}
	var spoken activities.SpeakReplyOutput
	r.activity(tb, &spoken, r.acts.SpeakReply, activities.SpeakReplyInput{
		PostReplyInput: activities.PostReplyInput{DeliveryKey: workflows.GenerateReplyID(msgID) + "/reply",
			ChannelID: rdChannel, Username: "Kerach", Content: gen.Text},
		DiscordUserID: rdKeyed, PersonalityID: r.kerach,
	})
	var img activities.ImagineOutput
	r.activity(tb, &img, r.acts.Imagine, activities.ImagineInput{
		ImagineTarget: activities.ImagineTarget{DeliveryKey: "imagine/" + r.nextID() + "/post", ChannelID: rdChannel},
		DiscordUserID: rdKeyed, PersonalityID: r.kerach, Prompt: "a fox",
	})
	var dm string
	r.activity(tb, &dm, r.acts.SendDM, activities.SendDMInput{
		DeliveryKey: workflows.GenerateReplyID(msgID) + "/dm", DiscordUserID: rdKeyed, Content: "your key"})
	r.activity(tb, nil, r.acts.DeactivateKey, activities.DeactivateKeyInput{
		DiscordUserID: "300000000000000007", Provider: activities.ProviderOpenRouter})
}

// Every statement the reply path and message routing send reads a bounded
// number of rows — an index serves it — on a database of 200,000 history rows
// and deliveries: no sequential scan of any table, and no lookup reading more
// than rdMaxRowsRead rows (a whole DM channel, a user's whole usage). And each
// index of migration 0015 is needed: without it, something on the path is
// unbounded again.
func TestReplyPathQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	r := newReplyDB(t, loadSpec{history: 200_000, personalities: 20_000, users: 20_000, usage: 20_000, bigDM: true})
	r.reply(t) // warm: the mention index, the channel's webhook
	r.rec.Start()
	r.reply(t)
	r.otherPaths(t)
	stmts := r.rec.Stop()

	touched := map[string]bool{}
	for _, st := range stmts {
		for _, table := range []string{"conversation_history", "deliveries", "usage_logs", "users", "user_api_keys",
			"user_personality_configs", "personalities", "personality_aliases", "llm_configs", "voice_configs", "image_configs"} {
			if strings.Contains(st.SQL, `"`+table+`"`) || strings.Contains(st.SQL, " "+table+" ") {
				touched[table] = true
			}
		}
	}
	if len(touched) != 11 {
		t.Fatalf("the recorded reply path touched only %v of the 11 tables it uses", touched)
	}

	explainAll := func(q querier, log bool) (bad []string) {
		for _, st := range stmts {
			plan, err := testdb.Explain(ctx, q, st)
			if err != nil {
				t.Fatal(err)
			}
			if log {
				t.Logf("%s\n    indexes: %v", st.SQL, testdb.Indexes(plan))
			}
			if problems := testdb.Unbounded(plan, rdMaxRowsRead); len(problems) > 0 {
				bad = append(bad, fmt.Sprintf("%s\n    %s", st.SQL, strings.Join(problems, "\n    ")))
			}
		}
		return bad
	}
	if bad := explainAll(r.admin, testing.Verbose()); len(bad) > 0 {
		t.Errorf("%d of %d reply-path statements plan a cost that grows with the tables:\n%s",
			len(bad), len(stmts), strings.Join(bad, "\n"))
	}
	t.Logf("%d statements checked", len(stmts))

	for _, index := range migration0015 {
		tx, err := r.admin.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A later index that can stand in for it (sameExpression) goes
		// with the one checked.
		for _, drop := range append([]string{index}, sameExpression[index]...) {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(`DROP INDEX %q`, drop)); err != nil {
				t.Fatal(err)
			}
		}
		bad := explainAll(tx, false)
		_ = tx.Rollback()
		if len(bad) == 0 {
			t.Errorf("without index %s every statement is still bounded: the check cannot see it, or the index is not needed", index)
		}
	}
}

type querier = testdb.Querier
