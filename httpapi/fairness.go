package httpapi

import (
	"context"
	"errors"
	"sync"
)

// DefaultMaxAccountCalls is the MaxAccountCalls of a Config that leaves it at zero.
//
// Four lets one account's dashboard load its panels in parallel, and is half of the smallest
// pool that the stores of this module open by default (8 read connections for SQLite, 8
// connections for PostgreSQL through postgres.Open), so that one account never holds more than
// half of a default pool: the other half serves every other account.
const DefaultMaxAccountCalls = 4

// errTooManyRequests is the error of a request whose account already has MaxAccountCalls store
// calls running. It gives 429 too_many_requests with Retry-After.
var errTooManyRequests = errors.New("httpapi: too many concurrent requests for this account")

// accountLimiter bounds the store calls that run at once for each account. A slot is held
// until the store call returns, not until the request's response is written: a call abandoned
// after the Timeout still counts against its account while the store works on it.
type accountLimiter struct {
	max     int
	mu      sync.Mutex
	running map[string]int // account ID -> store calls running; no entry for 0
}

func newAccountLimiter(max int) *accountLimiter {
	return &accountLimiter{max: max, running: map[string]int{}}
}

// acquire takes a slot for account, and reports false, taking nothing, when the account has
// none left.
func (l *accountLimiter) acquire(account string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.running[account]
	if n >= l.max {
		return false
	}
	l.running[account] = n + 1
	return true
}

// release gives back a slot that acquire took for account.
func (l *accountLimiter) release(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := l.running[account] - 1; n > 0 {
		l.running[account] = n
	} else {
		delete(l.running, account)
	}
}

// accountCall runs fn with call, under one of account's slots: without a free slot it returns
// errTooManyRequests without calling fn. The slot is given back when fn returns, which may be
// after accountCall has returned on ctx's end.
func (h *Handler) accountCall(ctx context.Context, account string, fn func(context.Context) error) error {
	if !h.limiter.acquire(account) {
		return errTooManyRequests
	}
	return call(ctx, func(ctx context.Context) error {
		defer h.limiter.release(account)
		return fn(ctx)
	})
}
