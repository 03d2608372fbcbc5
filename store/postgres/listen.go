package postgres

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/masker-dev/sessions/internal/wakeup"
)

// feedChannel is the channel that the trigger of migration 0002 notifies, with the schema's name
// as the payload, after every statement that writes sessions.
const feedChannel = "sessions_feed"

// listener holds one connection of a store to the primary, outside its pool, that LISTENs on
// feedChannel and wakes every tail of the store when a write to the store's schema commits,
// through whatever store or process made it. LISTEN does not work on a hot standby, so the
// connection goes to the primary, with WithReadPool too.
//
// When the connection drops (a restart, a failover, pg_terminate_backend), notifications sent
// meanwhile are lost: the listener wakes every tail, so that each reads once, connects again
// with a backoff, and wakes them again once it listens. Tails also poll (defaultTailPoll), so a
// tail never depends on the listener to make progress.
type listener struct {
	signal wakeup.Signal
	cancel context.CancelFunc
	done   chan struct{}
	pid    atomic.Uint32 // the backend of the listening connection, 0 while there is none
}

// listenBackoff bounds the waits between attempts to connect the listener. The wait goes back to
// the least only after a connection that listened for at least listenBackoffMax: a connection
// that a proxy or the server drops as soon as it listens is retried with the growing wait, as
// one that fails to connect is, since each attempt wakes every tail for a read.
const (
	listenBackoffMin = 50 * time.Millisecond
	listenBackoffMax = 2 * time.Second
)

// listener returns the store's listener, and starts it with the first tail. It returns nil once
// Close has been called: a listener started then would hold a connection of its own, outside
// the pool, and a goroutine, that nothing would stop.
func (s *Store) listener() *listener {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.listenClosed {
		return nil
	}
	if s.listen == nil {
		ctx, cancel := context.WithCancel(context.Background())
		s.listen = &listener{cancel: cancel, done: make(chan struct{})}
		go s.listen.run(ctx, s)
	}
	return s.listen
}

// wait returns the channel that the next notification (or loss of the connection) closes.
func (l *listener) wait() <-chan struct{} { return l.signal.Wait() }

// wake wakes every tail of s. It first counts a change of s's shared reads, so that a woken tail
// gets a read that began after the wake-up, and so after the commit that notified.
func (l *listener) wake(s *Store) {
	s.reads.Changed()
	l.signal.Wake()
}

// stop ends the listener and waits for it.
func (l *listener) stop() {
	l.cancel()
	<-l.done
}

// run keeps a listening connection until ctx ends.
func (l *listener) run(ctx context.Context, s *Store) {
	defer close(l.done)
	backoff := listenBackoffMin
	schema := ""
	for {
		if schema == "" {
			// The schema of the store's tables, which is the payload of their notifications.
			if err := s.pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
				schema = ""
			}
		}
		if schema != "" && l.listen(ctx, s, schema) >= listenBackoffMax {
			backoff = listenBackoffMin // it listened for a while: the next failure is a new one
		}
		l.pid.Store(0)
		l.wake(s) // notifications may have been lost: every tail reads once
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// listen connects, listens and wakes the tails at each notification for schema, until the
// connection fails or ctx ends. It returns how long it listened: 0 when it did not.
func (l *listener) listen(ctx context.Context, s *Store, schema string) time.Duration {
	conn, err := connectLike(ctx, s.pool.Config())
	if err != nil {
		return 0
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+feedChannel); err != nil {
		return 0
	}
	since := time.Now()
	l.pid.Store(conn.PgConn().PID())
	l.wake(s) // writes made before LISTEN took effect sent nothing to this connection
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return time.Since(since)
		}
		if n.Payload == schema {
			l.wake(s)
		}
	}
}

// connectLike opens a connection outside the pool of cfg as the pool opens its own: through its
// BeforeConnect and AfterConnect hooks, which may set what the connection string does not (a
// password or IAM token fetched at connect time, a role, a search_path).
func connectLike(ctx context.Context, cfg *pgxpool.Config) (*pgx.Conn, error) {
	cc := cfg.ConnConfig.Copy()
	if cfg.BeforeConnect != nil {
		if err := cfg.BeforeConnect(ctx, cc); err != nil {
			return nil, err
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, err
	}
	if cfg.AfterConnect != nil {
		if err := cfg.AfterConnect(ctx, conn); err != nil {
			conn.Close(context.Background())
			return nil, err
		}
	}
	return conn, nil
}
