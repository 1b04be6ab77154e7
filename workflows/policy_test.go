package workflows

import (
	"encoding/json"
	"testing"
	"time"
)

// Issue 12/13: a policy's durations read as people write them, and the
// integer nanoseconds of histories recorded before still decode.
func TestPolicyDurationJSON(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour: `"24h"`, 720 * time.Hour: `"720h"`, 90 * time.Minute: `"1h30m"`,
		2 * time.Second: `"2s"`, 0: `"0s"`, 36*time.Hour + 15*time.Second: `"36h0m15s"`,
	} {
		b, err := json.Marshal(Duration(d))
		if err != nil || string(b) != want {
			t.Errorf("%s: %s %v, want %s", d, b, err, want)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back.Std() != d {
			t.Errorf("%s: back %s %v", want, back.Std(), err)
		}
	}
	var p SLAPolicy
	if err := json.Unmarshal([]byte(`{"contact_within": 86400000000000, "plan_within": "48h"}`), &p); err != nil ||
		p.ContactWithin.Std() != 24*time.Hour || p.PlanWithin.Std() != 48*time.Hour {
		t.Errorf("legacy and new forms: %+v %v", p, err)
	}
	for _, bad := range []string{`"24 hours"`, `"h"`, `true`, `1.5`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s accepted as %s", bad, d)
		}
	}
}

// Each policy's validator refuses what cannot work; the rule book's pass.
func TestPolicyValidate(t *testing.T) {
	if err := DefaultSLAPolicy().Validate(); err != nil {
		t.Error(err)
	}
	if err := DefaultRewardPolicy().Validate(); err != nil {
		t.Error(err)
	}
	if err := DefaultAssessmentPolicy().Validate(); err != nil {
		t.Error(err)
	}
	sla := DefaultSLAPolicy()
	sla.WarningFraction = 1
	reward := DefaultRewardPolicy()
	reward.ReminderWorkingDays = reward.StepWorkingDays
	assess := DefaultAssessmentPolicy()
	assess.Annual.ExcellentPercent = 90
	for name, err := range map[string]error{"sla": sla.Validate(), "reward": reward.Validate(), "assessment": assess.Validate()} {
		if err == nil {
			t.Errorf("%s: a broken policy passed", name)
		}
	}
}
