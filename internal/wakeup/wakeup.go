// Package wakeup wakes every goroutine that waits for an event at once: the live tails of a store
// waiting for its next write.
package wakeup

import "sync"

// Signal is a broadcast: Wait returns a channel that the next Wake closes. A waiter takes the
// channel before it looks for what it waits for, and then waits on it, so that no Wake between
// the look and the wait is lost. The zero value is ready to use. It is safe for concurrent use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns the channel that the next Wake closes.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Wake closes the channel that Wait returned to every waiter since the last Wake.
func (s *Signal) Wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
