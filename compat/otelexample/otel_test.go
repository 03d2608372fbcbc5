package otelexample_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/compat/otelexample"
	"github.com/masker-dev/sessions/internal/pgtest"
)

// TestTracesOfARequest serves a list request through NewHandler on a PostgreSQL schema of its
// own, and checks that the request has one server span, with the queries of the store as its
// children in the same trace.
func TestTracesOfARequest(t *testing.T) {
	ctx := context.Background()
	base, _ := pgtest.NewSchema(t)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { tp.Shutdown(ctx) })

	auth := func(r *http.Request) (string, error) { return "acct_otel", nil }
	h, pool, err := otelexample.NewHandler(ctx, base.Config().Copy(), tp, auth, []byte("otel-example-cursor-key-32-bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close) // before pgtest drops the schema

	agent := sessions.NewAgentID()
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil { // a query outside any request: a root span
		t.Fatal(err)
	}
	before := len(spans.Ended())

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/agents/"+agent+"/sessions", nil))
	if w.Code != http.StatusNotFound { // the agent was never put: the agent check, one query
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}

	var server trace.SpanContext
	kinds := map[trace.SpanKind]int{}
	ended := spans.Ended()[before:]
	for _, s := range ended {
		kinds[s.SpanKind()]++
		if s.SpanKind() == trace.SpanKindServer {
			server = s.SpanContext()
		}
	}
	if diff := cmp.Diff(map[trace.SpanKind]int{trace.SpanKindServer: 1, trace.SpanKindClient: kinds[trace.SpanKindClient]}, kinds); diff != "" || kinds[trace.SpanKindClient] == 0 {
		t.Fatalf("span kinds (-want +got):\n%s; %d query spans", diff, kinds[trace.SpanKindClient])
	}
	for _, s := range ended {
		if s.SpanKind() == trace.SpanKindClient && (s.Parent().SpanID() != server.SpanID() || s.SpanContext().TraceID() != server.TraceID()) {
			t.Errorf("query span %q is not a child of the request's span", s.Name())
		}
	}
}
