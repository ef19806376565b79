package bot

import "context"

func notYet(context.Context, *Interaction) error {
	return UserError("This command is not available yet.")
}
