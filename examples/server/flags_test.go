package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFlags checks the server's defaults (90 days of retention among them), that the secrets
// come from the environment when their flags are not given, and that -h prints the usage without
// them.
func TestFlags(t *testing.T) {
	t.Setenv("SESSIONS_CURSOR_KEY", "env-cursor-key-of-at-least-32-bytes!!")
	t.Setenv("SESSIONS_TOKEN", "tok_from_env")
	var stderr bytes.Buffer
	o, err := parseFlags(nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.retention != 90*24*time.Hour || o.addr != "127.0.0.1:8080" || o.db != "./sessions.db" || o.demo != 10_000 {
		t.Errorf("defaults: retention %v, addr %q, db %q, demo %d", o.retention, o.addr, o.db, o.demo)
	}
	if o.cursorKey != "env-cursor-key-of-at-least-32-bytes!!" || o.token != "tok_from_env" {
		t.Errorf("secrets from the environment: %q, %q", o.cursorKey, o.token)
	}
	o, err = parseFlags([]string{"-token", "tok_flag", "-retention", "2w"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.token != "tok_flag" || o.retention != 14*24*time.Hour {
		t.Errorf("flags: token %q, retention %v", o.token, o.retention)
	}

	stderr.Reset()
	_, err = parseFlags([]string{"-h"}, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	usage := stderr.String()
	if !strings.Contains(usage, "-cursor-key") || strings.Contains(usage, "env-cursor-key") || strings.Contains(usage, "tok_from_env") {
		t.Errorf("-h printed:\n%s", usage)
	}
}

// TestPortInUse checks that a server whose address is taken fails before it opens the store: no
// database file is made, nor any demo session seeded.
func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "sessions.db")
	err = run(context.Background(), []string{"-addr", ln.Addr().String(), "-db", db}, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run on a taken address returned no error")
	}
	if _, statErr := os.Stat(db); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("run on a taken address (%v) made %s: %v", err, db, statErr)
	}
}
