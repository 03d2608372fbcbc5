package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/masker-dev/sessions/client"
)

// progress shows an export's progress on a terminal: sessions written, of how many, and the rate.
type progress struct {
	out    io.Writer
	total  int64 // from the summary; -1 when unknown
	header int64 // lines before the first session: the CSV header
	lines  atomic.Int64
	start  time.Time
	done   chan struct{}
	wg     sync.WaitGroup
}

// newProgress returns a progress bar on stderr when stderr is a terminal, and nil otherwise. The
// total comes from the summary of the same query; without it, the bar shows no total.
func newProgress(ctx context.Context, cl *client.Client, q client.Query, header int64, stderr io.Writer) *progress {
	f, ok := stderr.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	p := &progress{out: stderr, total: -1, header: header, start: time.Now(), done: make(chan struct{})}
	if m, err := cl.Summary(ctx, q); err == nil {
		p.total = m.Sessions
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				p.draw()
			case <-p.done:
				p.draw()
				fmt.Fprintln(p.out)
				return
			}
		}
	}()
	return p
}

// wrap counts the lines written through w: one per session, after the CSV header.
func (p *progress) wrap(w io.Writer) io.Writer {
	return writerFunc(func(b []byte) (int, error) {
		n, err := w.Write(b)
		p.lines.Add(int64(bytes.Count(b[:n], []byte{'\n'})))
		return n, err
	})
}

func (p *progress) draw() {
	n := max(p.lines.Load()-p.header, 0)
	rate := float64(n) / max(time.Since(p.start).Seconds(), 0.001)
	if p.total >= 0 {
		width := 30
		filled := 0
		if p.total > 0 {
			filled = int(min(n, p.total) * int64(width) / p.total)
		}
		fmt.Fprintf(p.out, "\r[%-*s] %d / %d sessions, %.0f/s ", width, bytes.Repeat([]byte{'#'}, filled), n, p.total, rate)
		return
	}
	fmt.Fprintf(p.out, "\r%d sessions, %.0f/s ", n, rate)
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
