package activities

// Small string helpers of the activities' database fields.

// deref is *s, or def when s is nil or empty.

func deref(s *string, def string) string {
	if s == nil || *s == "" {
		return def
	}
	return *s
}

// truncate cuts s to at most n bytes (the width of a varchar column).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
