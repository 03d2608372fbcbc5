package outagetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cluster is a private PostgreSQL cluster: its own data directory, socket directory and port.
type cluster struct {
	bin   string // the directory of initdb and pg_ctl
	runAs string // the OS user that runs them ("" for the current user)
	dir   string // data/, the log and the unix socket
	port  int
	tb    testing.TB
}

// findBin returns the directory of initdb and pg_ctl: that of the newest
// /usr/lib/postgresql/*/bin, or that of initdb on PATH, or "".
func findBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

// version returns the major version of a /usr/lib/postgresql/VERSION/bin directory.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// unusable skips the test, or fails it with CI=true when initdb is present (the environment is
// then expected to run it).
func unusable(tb testing.TB, initdbFound bool, format string, args ...any) {
	tb.Helper()
	if initdbFound && os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true and initdb is present, but: "+format, args...)
	}
	tb.Skipf(format, args...)
}

// startCluster initializes a cluster in a new directory under the system's temporary directory
// (t.TempDir's parents are private to the current user, and initdb refuses to run as root), with
// trust authentication, and starts it on a free port of 127.0.0.1. The cluster is stopped and
// its directory removed when the test ends.
func startCluster(tb testing.TB) *cluster {
	tb.Helper()
	bin := findBin()
	if bin == "" {
		unusable(tb, false, "initdb not found on PATH or under /usr/lib/postgresql/*/bin: install the PostgreSQL server to run the outage test")
	}
	c := &cluster{bin: bin, tb: tb}
	uid, gid := -1, -1
	if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			unusable(tb, true, "running as root and there is no postgres OS user to run initdb as: %v", err)
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			unusable(tb, true, "running as root and runuser is not available: %v", err)
		}
		c.runAs = u.Username
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	dir, err := os.MkdirTemp("", "outagetest-")
	if err != nil {
		tb.Fatal(err)
	}
	c.dir = dir
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	if out, err := c.run("initdb", "-D", c.data(), "--auth=trust", "--username=postgres", "--no-sync", "--encoding=UTF8", "--no-instructions"); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	c.port = freePort(tb)
	c.start()
	tb.Cleanup(func() {
		// Fast, and whatever state the test left the cluster in.
		c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	})
	return c
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

// connString returns the connection string of the cluster's postgres database, over TCP, for a
// pool of at most 10 connections (the cluster allows 40).
func (c *cluster) connString() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=2 pool_max_conns=10", c.port)
}

// run runs one of the cluster's programs as the cluster's user, with a time limit.
func (c *cluster) run(program string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := filepath.Join(c.bin, program)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", name}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Dir = c.dir
	return cmd.CombinedOutput()
}

// start starts the cluster and waits until it accepts connections.
func (c *cluster) start() {
	c.tb.Helper()
	opts := strings.Join([]string{
		"-p", strconv.Itoa(c.port),
		"-k", c.dir, // the unix socket, in the cluster's own directory
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=40",
	}, " ")
	if out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-o", opts, "-w", "-t", "20", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		c.tb.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// crash stops the cluster at once, as a crash would: pg_ctl stop -m immediate.
func (c *cluster) crash() {
	c.tb.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop"); err != nil {
		c.tb.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// freePort returns a TCP port of 127.0.0.1 that nothing listened on a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
