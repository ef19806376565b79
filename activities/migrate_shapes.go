package activities

import "context"

// shapesImport is filled in when the backup parser lands.
var shapesImport = dataMigration{
	tables: []string{"personalities", "llm_configs", "personality_aliases", "voice_configs", "conversation_history"},
	page: func(ctx context.Context, a *Activities, in pageInput) (pageResult, error) {
		return pageResult{}, badInput("shapes-import is not available in this build yet")
	},
	verify: func(ctx context.Context, a *Activities, _ map[string]string) ([]string, error) { return nil, nil },
}
