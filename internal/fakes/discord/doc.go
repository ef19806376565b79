// Package discord is an in-process stand-in for the Discord REST API, used
// by tzurot's tests and by the offline `tzurot dev` mode. It records what
// the bot sends (messages, webhook posts, interaction responses, command
// registrations) and answers with Discord's status codes and JSON error
// bodies, so the real discordgo client can be pointed at it unchanged.
//
// discordgo builds absolute https://discord.com/api/v9/... URLs from package
// variables, so rather than patching those, the product swaps the session's
// HTTP transport for a [RewriteTransport] that redirects every request to
// this server:
//
//	fake := discord.New(discord.Options{})
//	srv := httptest.NewServer(fake)
//	target, _ := url.Parse(srv.URL)
//	session.Client = &http.Client{Transport: &discord.RewriteTransport{Target: target}}
//
// Paths are served exactly as discordgo v0.29.0 produces them, under
// /api/v9 (and /api/v10).
//
// # Gateway
//
// GET /gateway and /gateway/bot answer with this server's own websocket
// endpoint (ws://<Host>/gateway-ws, from the request's Host), so a session
// whose REST calls reach the fake also dials the fake's gateway, and
// session.Open works unchanged. The gateway speaks Gateway v9/v10 with JSON
// encoding and no transport compression:
//
//   - Hello (op 10) with Options.HeartbeatInterval on connect; each
//     Heartbeat (op 1) is acknowledged with op 11; a client silent for two
//     intervals (plus a second) is closed with 4009.
//   - Identify (op 2): a token other than Options.Token (when set) closes
//     with 4004 "Authentication failed."; otherwise READY (the bot user,
//     session_id, resume_gateway_url, application id, the guilds as
//     unavailable) and, with the GUILDS intent, one GUILD_CREATE per guild
//     added with AddGuild.
//   - Resume (op 6) replays what the session missed, then RESUMED; an
//     unknown or ended session gets Invalid Session (op 9, false). A client
//     closing with 1000 or 1001 ends its session, as on Discord.
//   - Sharding as Discord routes it: Identify's shard array [shard_id,
//     num_shards] makes READY, GUILD_CREATE and every guild event go only
//     to the shard (guild_id >> 22) % num_shards, and events without a
//     guild_id (DMs) only to shard 0; a shard outside 0 ≤ id < count closes
//     with 4010, a session left more than 2,500 guilds with 4011.
//     GET /gateway/bot recommends Options.RecommendedShards (else one per
//     2,500 guilds) with session_start_limit (total, remaining,
//     reset_after, Options.MaxConcurrency).
//   - Dispatches carry increasing sequence numbers per session and honour
//     the intents: MESSAGE_CREATE needs GUILD_MESSAGES or DIRECT_MESSAGES,
//     and without MESSAGE_CONTENT a guild message's content arrives empty
//     unless it mentions the bot.
//
// Tests drive it with PostUserMessage (records a user's message and
// dispatches MESSAGE_CREATE), StartInteraction (registers an interaction
// and dispatches INTERACTION_CREATE) or Dispatch for any event, and observe
// it with WaitIdentified, Identified and GatewayConnections. Disconnect
// drops every connection to exercise resuming. Reset does not touch the
// gateway.
//
// Leave Guild (DELETE /users/@me/guilds/{guild.id}) takes the bot out of a
// guild added with AddGuild or SetGuildAccess: 204, GUILD_DELETE to each
// session with the GUILDS intent, the guild gone from later READYs and
// LeftGuilds listing it; a guild the bot is not in is 404 Unknown Guild
// (10004).
//
// # Behaviour worth knowing
//
//   - Bot routes require "Authorization: Bot <token>" (Options.Token, when
//     set, must match); webhook-token and interaction-callback routes do not,
//     as on Discord.
//   - Path ids must be snowflakes (decimal integers), otherwise 400 with
//     Discord's "Invalid Form Body" (code 50035). Options ids must be too.
//   - Message payloads are validated like Discord does: empty message
//     (50006), content over 2000 characters (counted in code points, as
//     Discord does) or more than 10 embeds or files (50035, with
//     errors.content._errors[0].code BASE_TYPE_MAX_LENGTH), files over 10 MiB (413, 40005), webhook names and usernames
//     containing "clyde" or "discord" or outside 1-80 characters (50035),
//     more than 15 webhooks in a channel (30007).
//   - SetGuildAccess gives a guild its name, roles, members (with their
//     users), channels (with names and permission overwrites) and threads
//     (type 11 or 12, parent_id, no overwrites; thread members at
//     /channels/{id}/thread-members/{user}), served by Get Guild, Get Guild
//     Roles, Get Guild Channels, Get Guild Member and Get Channel. A user's
//     message there (PostUserMessage, RecordUserMessageEvent) carries its
//     mentioned members with partial members, its author's member roles and
//     mention_roles: the roles mentioned that are mentionable or that the
//     author may mention (MENTION_EVERYONE). Get Channel of a DM the bot
//     opened is type 1 with its recipient.
//     The bot is then refused what it cannot read there, as Discord refuses
//     it: GET of such a channel, and of any message in it, is 403 Missing
//     Access (50001); a message that is not there is 404 Unknown Message
//     (10008). Forwards (UserMessage.ForwardOf) carry message_reference type
//     1 (FORWARD) with the original's guild, and message_snapshots.
//   - Interaction follow-ups use the application id as webhook id and the
//     interaction token; they are accepted once the interaction has been
//     acknowledged through its callback. Any other webhook id/token pair
//     must come from WebhookCreate. Each interaction can be acknowledged
//     once (second callback: 400, code 40060).
//   - Responses of type 4 and 5 create the interaction's original message
//     (type 5 carries the LOADING flag until it is edited); types 6 and 7
//     stand for the message the component was attached to, which this fake
//     never saw, so that original is tracked but not listed in the channel.
//   - Webhook tokens (68 base64url characters) and the interaction tokens
//     StartInteraction issues (base64url of "interaction:<id>:<random>")
//     have Discord's shapes; Tokens lists every one issued or seen, for
//     tests that check no token leaks.
//   - Each webhook (id and token) takes 5 executions, message edits and
//     deletions per 2 s (Options.WebhookLimit, WebhookWindow), as Discord
//     reports it; every answer of those routes carries X-RateLimit-Limit,
//     -Remaining, -Reset, -Reset-After and -Bucket, and the next request
//     past the limit is 429 {"message": "You are being rate limited.",
//     "retry_after": seconds, "global": false} with Retry-After and
//     X-RateLimit-Scope user. EarlyRetries counts a client (by User-Agent)
//     coming back before its retry_after. Message.History keeps every
//     message's content as posted and after each edit.
//   - DropNext closes the connection of the next matching request without
//     an answer (DropNextAfterHandling after doing the work), as when
//     Discord's edge resets it mid-request.
//   - Everything, including rejected requests, is recorded in Requests.
//     Message state is recorded before the response is written, so a test
//     may inspect it as soon as its client call returns.
package discord
