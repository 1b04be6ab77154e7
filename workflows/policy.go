package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The three versioned policies (issue 12, R1: the admin keeps them). Each
// is a record with a version and an effective date in PostgreSQL (table
// policies, migration 00016); a case takes the version in force at its
// start, carries it in its input and keeps it (R2, last bullet): changing a
// policy never changes a running case, only an explicit recalculation does.
type PolicyKind string

const (
	PolicyComplaint  PolicyKind = "complaint"  // SLAPolicy
	PolicyReward     PolicyKind = "reward"     // RewardPolicy
	PolicyAssessment PolicyKind = "assessment" // AssessmentPolicy
)

// Bounds of every policy: beyond them a value is a typo, not a rule.
const (
	maxWorkingDays  = 60
	maxPolicyHours  = Duration(60 * 24 * time.Hour)
	maxReopenWindow = Duration(366 * 24 * time.Hour)
	maxAmountFen    = 1_000_000_000_00 // 1,000,000,000 CNY
)

// PolicyKinds lists the kinds in the order they are shown.
var PolicyKinds = []PolicyKind{PolicyComplaint, PolicyReward, PolicyAssessment}

// shownVersion is the version a case shows: runs started before policies
// were versioned carry 0 and had the rule book's, version 1.
func shownVersion(v int) int { return max(v, 1) }

// Duration is a policy's length of time, written as Go writes durations
// ("24h", "720h", "90m") so a history, the admin API and the Web UI show
// what a person can read. It still reads the integer nanoseconds that
// histories recorded before it carry.
type Duration time.Duration

// Std is d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String is the shortest Go form: "24h", not "24h0m0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '"' {
		var ns int64 // recorded before Duration: nanoseconds
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&ns); err != nil {
			return fmt.Errorf("a duration is a string like \"24h\"")
		}
		*d = Duration(ns)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"24h\" or \"90m\"", s)
	}
	*d = Duration(v)
	return nil
}
