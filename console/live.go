package console

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// hub relays PostgreSQL's change notices (migration 00010) to the
// browsers of this server: one LISTEN connection per server, one channel
// per open page. A notice only says "reload what you show", so it carries
// no data and needs no authorization of its own.
type hub struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

func newHub() *hub { return &hub{subs: map[chan struct{}]struct{}{}} }

func (h *hub) subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// broadcast wakes every page without blocking: a page that has not yet
// taken the last wake-up needs no second one.
func (h *hub) broadcast() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// listen holds a LISTEN connection until ctx ends, reconnecting after a
// failure (PostgreSQL restarted): the pages are woken after each reconnect,
// since notices may have been missed meanwhile.
func (h *hub) listen(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) {
	for ctx.Err() == nil {
		err := h.listenOnce(ctx, pool)
		if ctx.Err() != nil {
			return
		}
		log.Warn("change notices interrupted; reconnecting", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

func (h *hub) listenOnce(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection keeps its LISTEN: never return it to the pool.
	defer conn.Conn().Close(context.Background())
	defer conn.Hijack()
	if _, err := conn.Exec(ctx, "LISTEN aftersales_changed"); err != nil {
		return err
	}
	h.broadcast()
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return err
		}
		h.broadcast()
	}
}

// events is /console/events: a server-sent event "changed" after every
// change, at most two a second, and a comment every 25 s so proxies keep
// the stream open.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The stream outlives the server's write timeout, which is for answers.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}

	wake, cancel := c.hub.subscribe()
	defer cancel()
	keepAlive := time.NewTicker(25 * time.Second)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-wake:
			if _, err := fmt.Fprint(w, "event: changed\ndata: {}\n\n"); err != nil {
				return
			}
			// Coalesce a burst of changes (a midnight of escalations).
			select {
			case <-r.Context().Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// Run relays change notices until ctx ends (see hub.listen).
func (c *Console) Run(ctx context.Context) {
	c.hub.listen(ctx, c.pool, c.log)
}
