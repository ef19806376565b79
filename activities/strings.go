package activities

func deref(s *string, def string) string {
	if s == nil || *s == "" {
		return def
	}
	return *s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
