package console

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/acme/aftersales/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Issue 10: a write to a table the pages show wakes every open page on
// this server within moments (the board's "within 2 s").
func TestChangeNoticesWakePages(t *testing.T) {
	pool := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newHub()
	wake, unsubscribe := h.subscribe()
	defer unsubscribe()
	go h.listen(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))

	select { // the wake-up of the first connect
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up after LISTEN")
	}
	// A statement-level trigger fires even when no row matches.
	if _, err := pool.Exec(ctx, `UPDATE escalations SET ack_note = ack_note WHERE false`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
	case <-time.After(2 * time.Second):
		t.Fatal("no wake-up within 2 s of a change")
	}
}
