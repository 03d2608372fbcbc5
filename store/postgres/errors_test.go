package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/masker-dev/sessions"
)

func TestMapError(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel := context.WithTimeout(live, -1)
	defer cancel()
	pg := func(code string) error { return fmt.Errorf("query: %w", &pgconn.PgError{Code: code, Message: "m"}) }
	netErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	unmapped := errors.New("scan failed")

	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want []error // errors.Is each
		not  []error // and none of these
		lost bool    // connectionLost
	}{
		{"nil", live, nil, nil, nil, false},
		{"cancelled", cancelled, netErr, []error{context.Canceled}, []error{sessions.ErrUnavailable}, false},
		{"cancelled, driver says so", cancelled, fmt.Errorf("timeout: %w", context.Canceled), []error{context.Canceled}, []error{sessions.ErrUnavailable}, false},
		{"deadline", expired, unmapped, []error{sessions.ErrUnavailable, context.DeadlineExceeded}, nil, false},
		{"deadline, live ctx", live, fmt.Errorf("x: %w", context.DeadlineExceeded), []error{sessions.ErrUnavailable}, nil, false},
		{"unique violation", live, pg("23505"), []error{sessions.ErrConflict}, []error{sessions.ErrUnavailable}, false},
		{"foreign key violation", live, pg("23503"), []error{sessions.ErrAgentNotFound}, nil, false},
		{"admin shutdown", live, pg("57P01"), []error{sessions.ErrUnavailable}, nil, true},
		{"cannot connect now", live, pg("57P03"), []error{sessions.ErrUnavailable}, nil, false},
		{"connection failure", live, pg("08006"), []error{sessions.ErrUnavailable}, nil, false},
		{"too many connections", live, pg("53300"), []error{sessions.ErrUnavailable}, nil, false},
		{"statement timeout", live, pg("57014"), []error{sessions.ErrUnavailable}, nil, false},
		{"deadlock", live, pg("40P01"), []error{sessions.ErrUnavailable}, nil, false},
		{"read-only replica", live, pg("25006"), []error{sessions.ErrUnavailable}, nil, false},
		{"undefined table", live, pg("42P01"), nil, []error{sessions.ErrUnavailable, sessions.ErrConflict, sessions.ErrAgentNotFound}, false},
		{"refused", live, netErr, []error{sessions.ErrUnavailable}, nil, false},
		{"connect error", live, &pgconn.ConnectError{}, []error{sessions.ErrUnavailable}, nil, false},
		{"lost", live, fmt.Errorf("receive: %w", io.ErrUnexpectedEOF), []error{sessions.ErrUnavailable}, nil, true},
		{"reset", live, fmt.Errorf("read: %w", syscall.ECONNRESET), []error{sessions.ErrUnavailable}, nil, true},
		{"mapped", live, fmt.Errorf("%w: x", sessions.ErrConflict), []error{sessions.ErrConflict}, []error{sessions.ErrUnavailable}, false},
		{"other", live, unmapped, []error{unmapped}, []error{sessions.ErrUnavailable}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapError(tt.ctx, tt.err)
			if (got == nil) != (tt.err == nil) {
				t.Fatalf("mapError(%v) = %v", tt.err, got)
			}
			for _, w := range tt.want {
				if !errors.Is(got, w) {
					t.Errorf("mapError(%v) = %v, want it to match %v", tt.err, got, w)
				}
			}
			for _, w := range tt.not {
				if errors.Is(got, w) {
					t.Errorf("mapError(%v) = %v, want it not to match %v", tt.err, got, w)
				}
			}
			if tt.err != nil {
				if lost := connectionLost(tt.err); lost != tt.lost {
					t.Errorf("connectionLost(%v) = %v, want %v", tt.err, lost, tt.lost)
				}
			}
		})
	}
}
