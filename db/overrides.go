package db

import (
	"context"
	"fmt"
	"time"

	"github.com/acme/aftersales/calendar"
)

// CalendarOverrides returns the company calendar overrides of R2 now in
// force, ready for calendar.New.
func (q *Queries) CalendarOverrides(ctx context.Context) ([]calendar.Override, error) {
	rows, err := q.ListCalendarOverrides(ctx)
	if err != nil {
		return nil, fmt.Errorf("load calendar overrides: %w", err)
	}
	ovs := make([]calendar.Override, len(rows))
	for i, o := range rows {
		// pgx decodes a date as midnight UTC.
		ovs[i] = calendar.Override{Date: calendar.DateOf(o.Day, time.UTC), Working: o.Working, Note: o.Note}
	}
	return ovs, nil
}
