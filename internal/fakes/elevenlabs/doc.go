// Package elevenlabs is an in-process stand-in for the ElevenLabs REST API
// (https://api.elevenlabs.io), used by tzurot's tests and by the offline
// `tzurot dev` mode.
//
// The fake sits at the network edge: the product talks to it with the same
// HTTP client it uses in production, so it answers with ElevenLabs' status
// codes, JSON error bodies and headers rather than with whatever would be
// convenient for a mock. Point the client's base URL at
//
//	srv := httptest.NewServer(elevenlabs.New(elevenlabs.Options{}))
//	ELEVENLABS_BASE_URL = srv.URL
//
// or run it on a port with [Server.ListenAndServe] / [Server.Serve].
//
// # Routes
//
//   - POST /v1/text-to-speech/{voice_id} and .../{voice_id}/stream: audio
//     for the JSON body's text. The stream route sends the same bytes
//     chunked, without a Content-Length.
//   - GET /v1/user and /v1/user/subscription: the key's plan and usage.
//   - GET /v1/voices and /v1/voices/{voice_id}: the voices that exist.
//   - GET /v1/models: the text-to-speech models and their length limits.
//
// Unknown paths get 404 {"detail":"Not Found"} and a wrong method 405
// {"detail":"Method Not Allowed"}, as from FastAPI. Bodies over 1 MiB get
// 413.
//
// # Keys
//
// Keys are read from the xi-api-key header. Keys registered with
// [Server.AddKey] are always authoritative. With Options.AcceptAnyKey (the
// offline demo), any other key of at least 8 characters is accepted with
// no quota, unless it contains (in any case) "invalid", which is refused
// with 401 invalid_api_key, "quota", which behaves as a free-tier key
// that has used its 10,000 characters (/v1/user answers, every TTS call
// gets 401 quota_exceeded), or "unusual", a free account ElevenLabs
// suspended: /v1/user answers, every TTS call gets 401
// detected_unusual_activity.
//
// A key with Blocked set gets that account-level refusal on every TTS
// call while it still authenticates elsewhere, as the live API does.
//
// A key with Permissions is scoped like ElevenLabs' restricted keys:
// "text_to_speech" for TTS, "user_read" for the user routes,
// "voices_read" for the voice routes and "models_read" for /v1/models.
//
// Characters are Unicode code points of the text, counted against
// Key.CharacterLimit only when a call succeeds. /v1/user reports a key with
// a limit of at most 10,000 as tier "free" and any other key as "creator";
// an unlimited key reports a character_limit of 1,000,000.
//
// # What is faithful
//
//   - The order of checks: the request schema first (422 even without a
//     key), then the key (401), then voice (404), model (400), output
//     format (400), empty text (400), per-model length (400) and quota
//     (401).
//   - 422 bodies in FastAPI/pydantic v2's list shape, one entry per
//     invalid field, with pydantic's lax coercions ("0.5" is a number,
//     "yes" a boolean). stability and similarity_boost must be in 0..1;
//     style and speed are not range-checked, as on the live API.
//   - Other errors in the object shape
//     {"detail":{"type","code","message","status","request_id"}}, where
//     "status" is the legacy identifier older clients match on and "code"
//     the current one. They differ where ElevenLabs' differ: every key
//     failure is code "unauthorized" (status invalid_api_key,
//     needs_authorization, missing_permissions...), a concurrency 429 is
//     code concurrent_limit_exceeded with status
//     too_many_concurrent_requests, an over-long text is code
//     text_too_long with status max_character_limit_exceeded, and a
//     library voice on the free plan is code paid_plan_required with
//     status payment_required (402). The request_id is repeated in the
//     x-trace-id header; error responses have no request-id header.
//     Validation errors also carry "param".
//   - The errors the live API still sends in the older shape
//     {"detail":{"status","message"}} alone: 401 detected_unusual_activity,
//     400 free_users_not_allowed, 400 voice_limit_reached.
//   - Success headers: request-id, history-item-id, x-character-count and
//     character-cost (both the character count), and
//     current-concurrent-requests / maximum-concurrent-requests (2 on the
//     free tier and 5 on creator, doubled for Flash and Turbo models).
//   - Per-model text limits: 10,000 characters for multilingual v2/v1 and
//     monolingual v1, 40,000 for Flash/Turbo v2.5, 30,000 for Flash/Turbo
//     v2, 5,000 for eleven_v3.
//
// # Audio
//
// Every mp3_* format returns [MP3] of the text: real MPEG-1 Layer III
// frames of silence, more of them for longer texts, so tests compare
// bytes exactly and players accept them. pcm_*, wav_*, ulaw_8000 and
// alaw_8000 return silence of the same duration. opus_* formats are
// valid but not generated: they get 400 invalid_output_format saying so.
//
// # Scripted failures
//
// [Server.Script] queues per-key outcomes for TTS calls, consumed one per
// call that passed the schema and key checks: [Fail], [FailWithRetryAfter],
// [Delay] and [OK]. Scripted failures bypass the voice, model, length and
// quota checks and charge nothing. [Fail] knows every detail.status and
// code of ElevenLabs' error-code table and those the live API was seen
// sending, each with its HTTP status, type and shape. [Server.ScriptUser]
// does the same for GET /v1/user.
//
// Every request, failed or not, is recorded and available from
// [Server.Calls] and [Server.TTSCalls]. A call whose client went away
// before the answer was written is recorded with status 499.
//
// # Simplifications
//
//   - One credit is one character on every model (Flash is half price on
//     the real API), and quotas never reset.
//   - Concurrency is reported, never enforced: a 429 only comes from a
//     script.
//   - Plan restrictions on output formats (mp3_44100_192 for Creator,
//     44.1 kHz PCM for Pro) and on library voices are not modelled.
//   - Other request fields (language_code, seed, previous_text,
//     pronunciation dictionaries...) are type-checked and otherwise
//     ignored; with-timestamps routes, voice cloning and history are not
//     served.
//   - Messages that could not be checked against the live API (text too
//     long, model not found, system busy...) follow the help centre's
//     wording; clients should match on status or code, never on messages.
package elevenlabs
