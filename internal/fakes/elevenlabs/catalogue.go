package elevenlabs

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

const (
	// freeTierLimit is the free plan's monthly character allowance.
	freeTierLimit = 10_000
	// unlimitedReportedLimit is what /v1/user reports as the limit of a key
	// registered without a CharacterLimit: the API has no "unlimited".
	unlimitedReportedLimit = 1_000_000
)

type model struct {
	id, name string
	// maxChars is maximum_text_length_per_request: longer texts get 400
	// max_character_limit_exceeded.
	maxChars int
	// fast models (Flash, Turbo) have their own, doubled, concurrency
	// limit.
	fast bool
}

var models = []model{
	{"eleven_multilingual_v2", "Eleven Multilingual v2", 10_000, false},
	{"eleven_flash_v2_5", "Eleven Flash v2.5", 40_000, true},
	{"eleven_turbo_v2_5", "Eleven Turbo v2.5", 40_000, true},
	{"eleven_flash_v2", "Eleven Flash v2", 30_000, true},
	{"eleven_turbo_v2", "Eleven Turbo v2", 30_000, true},
	{"eleven_v3", "Eleven v3", 5_000, false},
	{"eleven_monolingual_v1", "Eleven English v1", 10_000, false},
	{"eleven_multilingual_v1", "Eleven Multilingual v1", 10_000, false},
}

const defaultModel = "eleven_multilingual_v2"

func findModel(id string) (model, bool) {
	for _, m := range models {
		if m.id == id {
			return m, true
		}
	}
	return model{}, false
}

type voice struct {
	id, name, category, description string
	labels                          map[string]string
}

// defaultVoices are premade voices every ElevenLabs account can use.
func defaultVoices() []voice {
	premade := func(id, name, accent, desc, age, gender, useCase string) voice {
		return voice{id: id, name: name, category: "premade", labels: map[string]string{
			"accent": accent, "description": desc, "age": age, "gender": gender, "use_case": useCase,
		}}
	}
	return []voice{
		premade("21m00Tcm4TlvDq8ikWAM", "Rachel", "american", "calm", "young", "female", "narration"),
		premade("JBFqnCBsd6RMkjVDRZzb", "George", "british", "warm", "middle aged", "male", "narration"),
		premade("EXAVITQu4vr4xnSDxMaL", "Sarah", "american", "soft", "young", "female", "news"),
		premade("pNInz6obpgDQGcFmaJgB", "Adam", "american", "deep", "middle aged", "male", "narration"),
	}
}

// AddVoice makes a voice exist, as cloning one on elevenlabs.io does. It is
// listed by /v1/voices with category "cloned". Adding an existing id
// renames it.
func (s *Server) AddVoice(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.voices {
		if s.voices[i].id == id {
			s.voices[i].name = name
			return
		}
	}
	s.voices = append(s.voices, voice{id: id, name: name, category: "cloned", labels: map[string]string{}})
}

func anyVoiceID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func (s *Server) findVoice(id string) (voice, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.voices {
		if v.id == id {
			return v, true
		}
	}
	if s.opts.AcceptAnyVoice && anyVoiceID(id) {
		return voice{id: id, name: id, category: "generated", labels: map[string]string{}}, true
	}
	return voice{}, false
}

func (v voice) json() map[string]any {
	var desc, preview any
	if v.description != "" {
		desc = v.description
	}
	if v.category == "premade" {
		preview = "https://storage.googleapis.com/eleven-public-prod/premade/voices/" + v.id + "/preview.mp3"
	}
	labels := v.labels
	if labels == nil {
		labels = map[string]string{}
	}
	return map[string]any{
		"voice_id":                    v.id,
		"name":                        v.name,
		"samples":                     nil,
		"category":                    v.category,
		"labels":                      labels,
		"description":                 desc,
		"preview_url":                 preview,
		"available_for_tiers":         []string{},
		"settings":                    nil,
		"sharing":                     nil,
		"high_quality_base_model_ids": []string{},
		"verified_languages":          []any{},
		"safety_control":              nil,
		"voice_verification": map[string]any{
			"requires_verification":       false,
			"is_verified":                 false,
			"verification_failures":       []string{},
			"verification_attempts_count": 0,
		},
		"is_owner":  v.category != "premade",
		"is_legacy": false,
		"is_mixed":  false,
	}
}

func (s *Server) listVoices(r *http.Request) *response {
	if _, errResp := s.authenticate(r, "voices_read"); errResp != nil {
		return errResp
	}
	s.mu.Lock()
	out := make([]map[string]any, 0, len(s.voices))
	for _, v := range s.voices {
		out = append(out, v.json())
	}
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, map[string]any{"voices": out})
}

func (s *Server) getVoice(r *http.Request) *response {
	if _, errResp := s.authenticate(r, "voices_read"); errResp != nil {
		return errResp
	}
	id := strings.TrimPrefix(r.URL.Path, "/v1/voices/")
	v, ok := s.findVoice(id)
	if !ok {
		return apiError(http.StatusNotFound, "voice_not_found", failure{voiceID: id})
	}
	return jsonResponse(http.StatusOK, v.json())
}

func (s *Server) models(r *http.Request) *response {
	if r.Header.Get("xi-api-key") == "" && r.Header.Get("Authorization") == "" {
		// Observed on the live API: without credentials /v1/models looks
		// for an anonymous workspace instead of asking for a key.
		return apiError(http.StatusNotFound, "workspace_not_found", failure{})
	}
	if _, errResp := s.authenticate(r, "models_read"); errResp != nil {
		return errResp
	}
	out := make([]map[string]any, 0, len(models))
	for _, m := range models {
		group, multiplier := "standard", 1.0
		if m.fast {
			group, multiplier = "turbo", 0.5
		}
		out = append(out, map[string]any{
			"model_id":                               m.id,
			"name":                                   m.name,
			"can_be_finetuned":                       false,
			"can_do_text_to_speech":                  true,
			"can_do_voice_conversion":                false,
			"can_use_style":                          !m.fast,
			"can_use_speaker_boost":                  true,
			"serves_pro_voices":                      false,
			"token_cost_factor":                      multiplier,
			"description":                            m.name,
			"requires_alpha_access":                  false,
			"max_characters_request_free_user":       m.maxChars,
			"max_characters_request_subscribed_user": m.maxChars,
			"maximum_text_length_per_request":        m.maxChars,
			"languages":                              []map[string]string{{"language_id": "en", "name": "English"}},
			"model_rates":                            map[string]any{"character_cost_multiplier": multiplier},
			"concurrency_group":                      group,
		})
	}
	return jsonResponse(http.StatusOK, out)
}

func (k *keyState) tier() string {
	if k.CharacterLimit > 0 && k.CharacterLimit <= freeTierLimit {
		return "free"
	}
	return "creator"
}

func (k *keyState) reportedLimit() int {
	if k.CharacterLimit > 0 {
		return k.CharacterLimit
	}
	return unlimitedReportedLimit
}

// maxConcurrent is the plan's concurrency limit for a model: Flash and
// Turbo get twice the others'.
func (k *keyState) maxConcurrent(m model) int {
	n := 5
	if k.tier() == "free" {
		n = 2
	}
	if m.fast {
		n *= 2
	}
	return n
}

func (s *Server) subscriptionJSON(ks *keyState) map[string]any {
	s.mu.Lock()
	used, limit, tier := ks.used, ks.reportedLimit(), ks.tier()
	s.mu.Unlock()
	now := time.Now().UTC()
	reset := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	paid := tier != "free"
	voiceLimit, proVoiceLimit := 3, 0
	if paid {
		voiceLimit, proVoiceLimit = 30, 1
	}
	return map[string]any{
		"tier":                               tier,
		"character_count":                    used,
		"character_limit":                    limit,
		"max_character_limit_extension":      nil,
		"can_extend_character_limit":         paid,
		"allowed_to_extend_character_limit":  paid,
		"next_character_count_reset_unix":    reset.Unix(),
		"voice_slots_used":                   0,
		"professional_voice_slots_used":      0,
		"voice_limit":                        voiceLimit,
		"voice_add_edit_counter":             0,
		"professional_voice_limit":           proVoiceLimit,
		"can_extend_voice_limit":             false,
		"can_use_instant_voice_cloning":      paid,
		"can_use_professional_voice_cloning": paid,
		"currency":                           "usd",
		"status":                             "active",
		"billing_period":                     "monthly_period",
		"character_refresh_period":           "monthly_period",
	}
}

func (s *Server) subscription(r *http.Request) *response {
	ks, errResp := s.authenticate(r, "user_read")
	if errResp != nil {
		return errResp
	}
	return jsonResponse(http.StatusOK, s.subscriptionJSON(ks))
}

func (s *Server) user(r *http.Request) *response {
	ks, errResp := s.authenticate(r, "user_read")
	if errResp != nil {
		return errResp
	}
	key := r.Header.Get("xi-api-key")
	if step := next(s.userScripts.Next(key)); step.kind == stepFail {
		return scriptedError(step, failure{})
	}
	sum := sha256.Sum256([]byte(key))
	return jsonResponse(http.StatusOK, map[string]any{
		"user_id":                           hex.EncodeToString(sum[:])[:28],
		"subscription":                      s.subscriptionJSON(ks),
		"subscription_extras":               nil,
		"is_new_user":                       false,
		"xi_api_key":                        maskKey(key),
		"xi_api_key_preview":                maskKey(key),
		"is_api_key_hashed":                 true,
		"can_use_delayed_payment_methods":   false,
		"is_onboarding_completed":           true,
		"is_onboarding_checklist_completed": true,
		"first_name":                        "Tzurot",
		"created_at":                        1_704_067_200,
	})
}

// maskKey keeps the first and last four characters, like the dashboard's
// key preview, so a test can tell keys apart without the secret showing.
func maskKey(key string) string {
	if len(key) <= 8 {
		return strings.Repeat("*", len(key))
	}
	return key[:4] + strings.Repeat("*", len(key)-8) + key[len(key)-4:]
}
