package testscale

import "testing"

func TestPick(t *testing.T) {
	t.Setenv(Env, "")
	if Large() || Pick(1, 2) != 1 {
		t.Errorf("without %s: Large() = %v, Pick(1, 2) = %d; want false, 1", Env, Large(), Pick(1, 2))
	}
	t.Setenv(Env, "1")
	if !Large() || Pick(1, 2) != 2 {
		t.Errorf("with %s=1: Large() = %v, Pick(1, 2) = %d; want true, 2", Env, Large(), Pick(1, 2))
	}
	t.Setenv(Env, "yes")
	if Large() {
		t.Errorf("with %s=yes: Large() = true; want false (only 1 selects them)", Env)
	}
}
