// Package policies reads the versioned policies of table policies
// (migration 00016; issue 12 item 3) as the workflows' policy types. It is
// the one place that turns a stored version into the policy a case starts
// with: the server (complaints, nominations, a cycle HR starts) and the
// activities (a scheduled cycle, the month's CSI service stars) use it.
package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// Policy is one of the workflows' versioned policy types.
type Policy interface {
	workflows.SLAPolicy | workflows.RewardPolicy | workflows.AssessmentPolicy
}

// ErrNoVersion is a version that does not exist.
var ErrNoVersion = errors.New("no such policy version")

// InForce is the version of kind in force at at (R2: a case takes the one
// in force at its start and keeps it).
func InForce[P Policy](ctx context.Context, q *db.Queries, kind workflows.PolicyKind, at time.Time) (P, error) {
	row, err := q.PolicyInForce(ctx, db.PolicyInForceParams{Kind: string(kind), At: at})
	if err != nil {
		var zero P
		return zero, fmt.Errorf("%s policy in force at %s: %w", kind, at.Format(time.RFC3339), err)
	}
	return Decode[P](row.Body)
}

// Store reads stored versions for one database. A version never changes
// once written (the table is append-only), so each is read once: every
// complaint's start needs one, and no start should pay a query for it.
type Store struct {
	q      *db.Queries
	bodies sync.Map // "kind/version" -> body
}

// NewStore reads versions through q.
func NewStore(q *db.Queries) *Store { return &Store{q: q} }

// Version is version v of kind.
func Version[P Policy](ctx context.Context, s *Store, kind workflows.PolicyKind, v int) (P, error) {
	key := fmt.Sprintf("%s/%d", kind, v)
	if body, ok := s.bodies.Load(key); ok {
		return Decode[P](body.([]byte))
	}
	row, err := s.q.GetPolicy(ctx, db.GetPolicyParams{Kind: string(kind), Version: int32(v)})
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNoVersion
	}
	if err != nil {
		var zero P
		return zero, fmt.Errorf("%s policy version %d: %w", kind, v, err)
	}
	s.bodies.Store(key, row.Body)
	return Decode[P](row.Body)
}

// Decode reads a stored body (which carries its version).
func Decode[P Policy](body []byte) (P, error) {
	var p P
	if err := json.Unmarshal(body, &p); err != nil {
		return p, fmt.Errorf("stored policy: %w", err)
	}
	return p, nil
}
