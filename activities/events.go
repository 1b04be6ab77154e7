package activities

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/acme/aftersales/workflows"
)

// eventColumns is an audit trail (R7) as the column arrays the
// Insert*Events queries take: one row per seq, in seq order.
type eventColumns struct {
	Seqs     []int32
	Types    []string
	ActorIds []string
	Ats      []time.Time
	Reasons  []string
	Datas    []string // JSON, "" for none
}

// bySeq merges event lists by seq (a later list wins a seq).
func bySeq(lists ...[]workflows.Event) map[int]workflows.Event {
	all := map[int]workflows.Event{}
	for _, list := range lists {
		for _, e := range list {
			all[e.Seq] = e
		}
	}
	return all
}

// columnsOf turns events into columns. Writing every known event, not only
// the new ones, heals a write that was lost; the inserts skip seqs already
// stored.
func columnsOf(bySeq map[int]workflows.Event) (eventColumns, error) {
	var c eventColumns
	for _, seq := range slices.Sorted(maps.Keys(bySeq)) {
		e := bySeq[seq]
		data := ""
		if len(e.Data) > 0 {
			b, err := json.Marshal(e.Data)
			if err != nil {
				return c, fmt.Errorf("event %d data is not JSON: %w", seq, err)
			}
			data = string(b)
		}
		c.Seqs = append(c.Seqs, int32(seq))
		c.Types = append(c.Types, e.Type)
		c.ActorIds = append(c.ActorIds, e.ActorID)
		c.Ats = append(c.Ats, e.At)
		c.Reasons = append(c.Reasons, e.Reason)
		c.Datas = append(c.Datas, data)
	}
	return c, nil
}

// lastSeq is the highest seq, -1 for none (still newer than an intake row
// whose last_seq is NULL).
func (c eventColumns) lastSeq() int {
	if len(c.Seqs) == 0 {
		return -1
	}
	return int(c.Seqs[len(c.Seqs)-1])
}
