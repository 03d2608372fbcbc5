// Command benchplot draws page latency against page depth from `go test -bench` output, one line
// per series, as an SVG with logarithmic axes. It reads benchmarks named
//
//	Benchmark<Store>Depth/<method>/page=<N>
//
// (for instance BenchmarkSQLiteDepth/offset/page=1000) and draws the series "<Store> <method>".
//
//	go test -run '^$' -bench Depth ./store/... | go run ./internal/benchplot > docs/depth.svg
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^Benchmark(\w+)Depth/(\w+)/page=(\d+)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

type point struct{ page, ns float64 }

func main() {
	series, err := read(os.Stdin)
	if err == nil && len(series) == 0 {
		err = fmt.Errorf("no Benchmark*Depth/<method>/page=<N> lines in the input")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchplot:", err)
		os.Exit(1)
	}
	draw(os.Stdout, series)
}

func read(r io.Reader) (map[string][]point, error) {
	series := map[string][]point{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		page, _ := strconv.ParseFloat(m[3], 64)
		ns, _ := strconv.ParseFloat(m[4], 64)
		name := m[1] + " " + m[2]
		series[name] = append(series[name], point{page, ns})
	}
	return series, sc.Err()
}

func draw(w io.Writer, series map[string][]point) {
	const width, height, left, bottom, top, right = 720, 440, 80, 50, 30, 190
	minX, maxX, minY, maxY := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	names := make([]string, 0, len(series))
	for name, pts := range series {
		names = append(names, name)
		sort.Slice(pts, func(i, j int) bool { return pts[i].page < pts[j].page })
		for _, p := range pts {
			minX, maxX = math.Min(minX, p.page), math.Max(maxX, p.page)
			minY, maxY = math.Min(minY, p.ns), math.Max(maxY, p.ns)
		}
	}
	sort.Strings(names)
	lx0, lx1 := math.Floor(math.Log10(minX)), math.Ceil(math.Log10(maxX))
	ly0, ly1 := math.Floor(math.Log10(minY)), math.Ceil(math.Log10(maxY))
	if lx1 == lx0 {
		lx1++
	}
	if ly1 == ly0 {
		ly1++
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	x := func(v float64) float64 { return left + (math.Log10(v)-lx0)/(lx1-lx0)*plotW }
	y := func(v float64) float64 { return top + plotH - (math.Log10(v)-ly0)/(ly1-ly0)*plotH }

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="18" font-size="14">Page latency against page depth (log-log)</text>`+"\n", left)
	for e := lx0; e <= lx1; e++ {
		v := math.Pow(10, e)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%.1f" y="%.1f" text-anchor="middle">%g</text>`+"\n",
			x(v), top, x(v), top+plotH, x(v), top+plotH+16, v)
	}
	for e := ly0; e <= ly1; e++ {
		v := math.Pow(10, e)
		fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, y(v), left+plotW, y(v), left-6, y(v)+4, duration(v))
	}
	fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">page number (100 sessions a page)</text>`+"\n", left+plotW/2, height-10)
	colors := []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"}
	for i, name := range names {
		c := colors[i%len(colors)]
		dash := ""
		if strings.Contains(name, "offset") {
			dash = ` stroke-dasharray="6 4"`
		}
		var pts []string
		for _, p := range series[name] {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.page), y(p.ns)))
		}
		fmt.Fprintf(w, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", c, dash, strings.Join(pts, " "))
		ly := float64(top + 10 + 18*i)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/><text x="%.1f" y="%.1f">%s</text>`+"\n",
			left+plotW+10, ly, left+plotW+34, ly, c, dash, left+plotW+40, ly+4, name)
	}
	fmt.Fprintln(w, "</svg>")
}

func duration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%gs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%gms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%gµs", ns/1e3)
	}
	return fmt.Sprintf("%gns", ns)
}
