// Package otelexample is the README's example of traces around the session API, kept here so
// that it compiles and is tested: the handler wrapped in otelhttp, and a pgx tracer on the
// caller's own pool, so that each request's span holds a span per query of the PostgreSQL store.
// The library itself has no OpenTelemetry dependency; this module does.
package otelexample

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/store/postgres"
)

// QueryTracer is a pgx.QueryTracer that records each query as a client span of Tracer, a child
// of the span in the query's context (the request's, under otelhttp). It records the SQL text,
// which holds placeholders only, never the arguments. It is safe for concurrent use.
type QueryTracer struct {
	Tracer trace.Tracer
}

// TraceQueryStart starts the span of a query.
func (t QueryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	ctx, _ = t.Tracer.Start(ctx, "postgres.query",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "postgresql"), attribute.String("db.query.text", data.SQL)))
	return ctx
}

// TraceQueryEnd ends the span of a query, with its error if it failed.
func (t QueryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if data.Err != nil {
		span.RecordError(data.Err)
		span.SetStatus(codes.Error, "query failed")
	}
	span.End()
}

// NewHandler opens the caller's pool from cfg with a QueryTracer of tp, opens the PostgreSQL
// store on it, and returns the session API wrapped in otelhttp, and the pool (which the caller
// closes; the store leaves it open). authenticate is httpapi.Config.Authenticate.
func NewHandler(ctx context.Context, cfg *pgxpool.Config, tp trace.TracerProvider, authenticate func(*http.Request) (string, error), cursorKey []byte) (http.Handler, *pgxpool.Pool, error) {
	cfg.ConnConfig.Tracer = QueryTracer{Tracer: tp.Tracer("github.com/masker-dev/sessions/store/postgres")}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	store, err := postgres.New(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	api, err := httpapi.New(httpapi.Config{Store: store, Authenticate: authenticate, CursorKey: cursorKey})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return otelhttp.NewHandler(api, "sessions-api", otelhttp.WithTracerProvider(tp)), pool, nil
}
