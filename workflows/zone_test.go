package workflows

import "testing"

// R2: the calendar's zone always comes from the input; a case that names
// none, or an unknown one, is refused at its start instead of counting its
// days in UTC.
func TestR2_ZoneComesFromTheInput(t *testing.T) {
	for _, name := range []string{"", "Mars/Base"} {
		h := newHarness(t, monday)
		h.in.Location = name
		h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
		if err := h.env.GetWorkflowError(); !IsRejection(err, ErrInvalidInput) {
			t.Errorf("complaint with location %q: %v", name, err)
		}
	}
	if loc, err := Zone("Asia/Shanghai"); err != nil || loc.String() != "Asia/Shanghai" {
		t.Errorf("Asia/Shanghai: %v %v", loc, err)
	}
}
