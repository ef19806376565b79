// Package workflows holds tzurot's workflows: deterministic code only, one file
// per workflow with its input, options and steps. Activities are named through
// the nil pointer a, as the worker registers one *activities.Activities.
package workflows

import "github.com/tzurot/tzurot/activities"

var a *activities.Activities
