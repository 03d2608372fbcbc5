package schema

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestMustLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0002_more.sql": {Data: []byte("B")},
		"migrations/0001_init.sql": {Data: []byte("A")},
		"migrations/README":        {Data: []byte("not a migration")},
	}
	want := []Migration{{1, "0001_init.sql", "A"}, {2, "0002_more.sql", "B"}}
	if diff := cmp.Diff(want, MustLoad(fsys, "test")); diff != "" {
		t.Errorf("MustLoad (-want +got):\n%s", diff)
	}
	for name, bad := range map[string]fstest.MapFS{
		"gap":        {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"no number":  {"migrations/init.sql": {}},
		"from zero":  {"migrations/0000_a.sql": {}},
		"duplicated": {"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: MustLoad did not panic", name)
				}
			}()
			MustLoad(bad, "test")
		}()
	}
}
