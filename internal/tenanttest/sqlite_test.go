package tenanttest

import (
	"path/filepath"
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/sqlite"
)

func init() {
	stores["sqlite"] = func(t *testing.T) sessions.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sessions.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}
