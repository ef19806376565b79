package operator

// PGEnv exposes pgEnv for its table test.
var PGEnv = pgEnv

// CopyUnescape and SplitIdents expose the rollback's COPY parsing.
var (
	CopyUnescape = copyUnescape
	SplitIdents  = splitIdents
)
