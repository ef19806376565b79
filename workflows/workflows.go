// Package workflows holds tzurot's workflows: deterministic code only, one file
// per workflow with its input, options and steps, and steps.go for the steps
// they share. Activities are named through nil pointers, as the worker
// registers one *activities.Activities (the reply path, a) and one
// *operator.Activities (the operator's work, op); an activity's name is its
// method's name.
package workflows

import (
	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
)

var (
	a  *activities.Activities
	op *operator.Activities
)
