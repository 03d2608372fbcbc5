package wakeup

import "testing"

// TestSignal checks that Wake closes the channel of every earlier Wait and of none after it.
func TestSignal(t *testing.T) {
	var s Signal
	s.Wake() // no waiter: nothing to close
	a, b := s.Wait(), s.Wait()
	if a != b {
		t.Fatal("two Waits before a Wake returned different channels")
	}
	select {
	case <-a:
		t.Fatal("closed before Wake")
	default:
	}
	s.Wake()
	<-a
	c := s.Wait()
	select {
	case <-c:
		t.Fatal("a Wait after Wake returned a closed channel")
	default:
	}
}
