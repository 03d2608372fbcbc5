package schema

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// testRecord is a Record whose statement is easy to read back.
func testRecord(version int, name string) string {
	return fmt.Sprintf("INSERT INTO t VALUES (%d, '%s');\n", version, name)
}

func TestMustLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"migrations/0002_more.sql": {Data: []byte("B;\n")},
		"migrations/0001_init.sql": {Data: []byte("A;")},
		"migrations/README":        {Data: []byte("not a migration")},
	}
	wrap := func(file, record string) string {
		return "-- +goose Up\n-- +goose StatementBegin\n" + file +
			"\n\n-- Records this version, which the store reads when it opens (see Migrations).\n" +
			record + "\n-- +goose StatementEnd\n"
	}
	want := []Migration{
		{1, "0001_init.sql", wrap("A;", "INSERT INTO t VALUES (1, '0001_init.sql');")},
		{2, "0002_more.sql", wrap("B;", "INSERT INTO t VALUES (2, '0002_more.sql');")},
	}
	if diff := cmp.Diff(want, MustLoad(fsys, "test", testRecord)); diff != "" {
		t.Errorf("MustLoad (-want +got):\n%s", diff)
	}
	for name, bad := range map[string]fstest.MapFS{
		"gap":        {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"no number":  {"migrations/init.sql": {}},
		"from zero":  {"migrations/0000_a.sql": {}},
		"duplicated": {"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}},
		"quote":      {"migrations/0001_it's.sql": {}},
		"upper case": {"migrations/0001_Init.sql": {}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: MustLoad did not panic", name)
				}
			}()
			MustLoad(bad, "test", testRecord)
		}()
	}
}

// TestFS checks the exported file system with fstest.TestFS (every fs.FS rule: Open, ReadDir,
// Stat, Glob, ReadFile), and its content: the same text at the root and under golang-migrate.
func TestFS(t *testing.T) {
	ms := MustLoad(fstest.MapFS{
		"migrations/0001_init.sql": {Data: []byte("A;")},
		"migrations/0002_more.sql": {Data: []byte("B;")},
	}, "test", testRecord)
	fsys := FS(ms)
	if err := fstest.TestFS(fsys, "0001_init.sql", "0002_more.sql",
		"golang-migrate/0001_init.up.sql", "golang-migrate/0002_more.up.sql"); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		got[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"0001_init.sql":                   ms[0].SQL,
		"0002_more.sql":                   ms[1].SQL,
		"golang-migrate/0001_init.up.sql": ms[0].SQL,
		"golang-migrate/0002_more.up.sql": ms[1].SQL,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if !strings.Contains(got["0002_more.sql"], "INSERT INTO t VALUES (2, '0002_more.sql');") {
		t.Errorf("0002_more.sql does not record its version:\n%s", got["0002_more.sql"])
	}
}
