package memory_test

import (
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/memory"
	"github.com/masker-dev/sessions/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sessions.Store { return memory.New() })
}
