// Package workflows holds the Temporal workflows: the complaint SLA clocks
// (R3), the monthly assessment cycle and appeals (R4, R6), and the reward
// approval (R5). Workflow code is deterministic (checked by workflowcheck).
package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Custom search attributes, so the Temporal Web UI and
// `temporal workflow list --query` can find cases, e.g.
// `ComplaintStatus = "open" AND NextDueAt < "2026-10-01T10:00:00+08:00"`.
var (
	ComplaintStatusKey = temporal.NewSearchAttributeKeyKeyword("ComplaintStatus")
	AssigneeIDKey      = temporal.NewSearchAttributeKeyKeyword("AssigneeId")
	TeamIDKey          = temporal.NewSearchAttributeKeyKeyword("TeamId")
	NextDueAtKey       = temporal.NewSearchAttributeKeyTime("NextDueAt")
	BreachedKey        = temporal.NewSearchAttributeKeyBool("Breached")
)

// SearchAttributes are the custom search attributes the namespace must have.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	ComplaintStatusKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AssigneeIDKey.GetName():      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	TeamIDKey.GetName():          enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	NextDueAtKey.GetName():       enumspb.INDEXED_VALUE_TYPE_DATETIME,
	BreachedKey.GetName():        enumspb.INDEXED_VALUE_TYPE_BOOL,
}
