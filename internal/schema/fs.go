package schema

import (
	"io"
	"io/fs"
	"strings"
	"time"
)

// dir is a directory of the file system of FS, and that file system itself when it is the root.
// Its entries are *file and *dir, in name order; it is never changed after FS returns it.
type dir struct {
	name    string
	entries []fs.DirEntry
}

// file is a file of the file system of FS.
type file struct {
	name string
	data string
}

// Open opens name, a path below d (fs.FS).
func (d *dir) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	var e fs.DirEntry = d
	if name != "." {
		for elem := range strings.SplitSeq(name, "/") {
			sub, ok := e.(*dir)
			if !ok {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
			e = sub.lookup(elem)
			if e == nil {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
		}
	}
	switch e := e.(type) {
	case *file:
		return &openFile{info: e, Reader: strings.NewReader(e.data)}, nil
	default:
		return &openDir{dir: e.(*dir)}, nil
	}
}

func (d *dir) lookup(name string) fs.DirEntry {
	for _, e := range d.entries {
		if e.Name() == name {
			return e
		}
	}
	return nil
}

// A dir and a file are their own fs.DirEntry and fs.FileInfo.

func (d *dir) Name() string                    { return d.name }
func (d *dir) IsDir() bool                     { return true }
func (d *dir) Type() fs.FileMode               { return fs.ModeDir }
func (d *dir) Info() (fs.FileInfo, error)      { return d, nil }
func (d *dir) Size() int64                     { return 0 }
func (d *dir) Mode() fs.FileMode               { return fs.ModeDir | 0o555 }
func (d *dir) ModTime() time.Time              { return time.Time{} }
func (d *dir) Sys() any                        { return nil }
func (f *file) Name() string                   { return f.name }
func (f *file) IsDir() bool                    { return false }
func (f *file) Type() fs.FileMode              { return 0 }
func (f *file) Info() (fs.FileInfo, error)     { return f, nil }
func (f *file) Size() int64                    { return int64(len(f.data)) }
func (f *file) Mode() fs.FileMode              { return 0o444 }
func (f *file) ModTime() time.Time             { return time.Time{} }
func (f *file) Sys() any                       { return nil }
func (f *openFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *openFile) Close() error               { return nil }
func (d *openDir) Stat() (fs.FileInfo, error)  { return d.dir, nil }
func (d *openDir) Close() error                { return nil }

// openFile is an open file: a reader of its text.
type openFile struct {
	info *file
	*strings.Reader
}

// openDir is an open directory, which reads its entries.
type openDir struct {
	dir *dir
	pos int // the next entry of ReadDir
}

func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.dir.name, Err: fs.ErrInvalid}
}

// ReadDir reads the next n entries (fs.ReadDirFile).
func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.dir.entries[d.pos:]
	if n > 0 {
		if len(rest) == 0 {
			return nil, io.EOF
		}
		rest = rest[:min(n, len(rest))]
	}
	d.pos += len(rest)
	return append([]fs.DirEntry(nil), rest...), nil
}
