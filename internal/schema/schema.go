// Package schema reads the embedded SQL migrations of the SQL stores: files named
// migrations/NNNN_name.sql, where NNNN is the version, numbered 1, 2, 3...
package schema

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one versioned SQL file.
type Migration struct {
	Version int    // NNNN of the file name
	Name    string // the file name, such as 0001_init.sql
	SQL     string // the file's text
}

// MustLoad returns the migrations/*.sql files of fsys in version order. It panics, naming the
// store, when a file has no version number or the versions are not 1, 2, 3...: a bug of that
// store, which its tests catch.
func MustLoad(fsys fs.FS, store string) []Migration {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []Migration
	for _, name := range names {
		prefix, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			panic(fmt.Sprintf("%s: migration %s: no version number", store, name))
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		ms = append(ms, Migration{Version: v, Name: path.Base(name), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			panic(fmt.Sprintf("%s: migration %s: want version %d", store, m.Name, i+1))
		}
	}
	return ms
}
