package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The OpenAPI document is written in the JSON subset of YAML 1.2, so the tests read it with
// encoding/json. The checker below implements the subset of JSON Schema that the document uses,
// and fails on any other keyword, so that the document cannot say something it does not check.

// spec is the parsed OpenAPI document.
var spec = sync.OnceValue(func() map[string]any {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		panic("openapi.yaml is not in the JSON subset of YAML: " + err.Error())
	}
	return doc
})

// resolve follows a local $ref ("#/components/...") of node, if it has one.
func resolve(node map[string]any) map[string]any {
	for {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		var cur any = spec()
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		node = cur.(map[string]any)
	}
}

// schemaKeywords are the JSON Schema keywords that checkSchema implements, and annotations.
var schemaKeywords = []string{"$ref", "type", "properties", "required", "additionalProperties", "items", "enum",
	"minimum", "maximum", "maxLength", "pattern", "format", "description", "default"}

// checkSchema reports where v (decoded by encoding/json with UseNumber) breaks schema.
func checkSchema(schema map[string]any, v any, at string) []string {
	schema = resolve(schema)
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	for k := range schema {
		if !slices.Contains(schemaKeywords, k) {
			fail("schema keyword %q is not implemented by the checker", k)
		}
	}
	if t, ok := schema["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		if !slices.ContainsFunc(types, func(t string) bool { return hasType(v, t) }) {
			fail("want type %v, got %T %v", types, v, v)
			return errs
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		fail("want one of %v, got %v", enum, v)
	}
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		if min, ok := schema["minimum"].(float64); ok && f < min {
			fail("%v is below the minimum %v", f, min)
		}
		if max, ok := schema["maximum"].(float64); ok && f > max {
			fail("%v is above the maximum %v", f, max)
		}
	}
	if s, ok := v.(string); ok {
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			fail("%q does not match %s", s, p)
		}
		if max, ok := schema["maxLength"].(float64); ok && float64(len([]rune(s))) > max {
			fail("longer than %v", max)
		}
		switch f := schema["format"]; f {
		case nil:
		case "date-time": // RFC 3339, which a generated client parses (Go: time.Time)
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				fail("%q is not a date-time: %v", s, err)
			}
		default:
			fail("format %v is not implemented by the checker", f)
		}
	}
	if obj, ok := v.(map[string]any); ok {
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asList(schema["required"]) {
			if _, ok := obj[r]; !ok {
				fail("missing required property %q", r)
			}
		}
		for k, x := range obj {
			if p, ok := props[k]; ok {
				errs = append(errs, checkSchema(p.(map[string]any), x, at+"."+k)...)
				continue
			}
			switch extra := schema["additionalProperties"].(type) {
			case bool:
				if !extra {
					fail("property %q is not in the schema", k)
				}
			case map[string]any:
				errs = append(errs, checkSchema(extra, x, at+"."+k)...)
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := schema["items"].(map[string]any); ok {
			for i, x := range arr {
				errs = append(errs, checkSchema(items, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := strconv.ParseInt(string(n), 10, 64)
		return err == nil
	}
	return false
}

func asList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}

// specPath returns the path template of the document that matches the end of path (so that
// a path under a prefix matches too), or "".
func specPath(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, bestLiterals := "", -1
	for tmpl := range spec()["paths"].(map[string]any) {
		t := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(t) > len(segs) {
			continue
		}
		tail := segs[len(segs)-len(t):]
		match, literals := true, 0
		for i := range t {
			switch {
			case strings.HasPrefix(t[i], "{"):
			case t[i] == tail[i]:
				literals++
			default:
				match = false
			}
		}
		// The most literal template wins, as in ServeMux: /sessions/summary over
		// /sessions/{session_id}.
		if match && (literals > bestLiterals || literals == bestLiterals && len(t) > len(strings.Split(strings.Trim(best, "/"), "/"))) {
			best, bestLiterals = tmpl, literals
		}
	}
	return best
}

// checkResponse checks a response against the document: its status is documented for the path,
// and its JSON body matches the documented schema. Responses to paths that the document does not
// describe (net/http's 404, routes of other routers) are not checked.
func checkResponse(tb testing.TB, path string, status int, contentType string, body []byte) {
	tb.Helper()
	tmpl := specPath(path)
	if tmpl == "" || len(body) == 0 {
		return
	}
	op := spec()["paths"].(map[string]any)[tmpl].(map[string]any)["get"].(map[string]any)
	res, ok := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	if !ok {
		tb.Errorf("openapi.yaml: %s documents no %d response", tmpl, status)
		return
	}
	content := resolve(res)["content"].(map[string]any)
	media, ok := content[contentType].(map[string]any)
	if !ok {
		tb.Errorf("openapi.yaml: %s %d documents no %s body", tmpl, status, contentType)
		return
	}
	schema := media["schema"].(map[string]any)
	if contentType == "application/x-ndjson" { // the schema is that of each line
		for i, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
			checkJSON(tb, tmpl, status, schema, []byte(line), fmt.Sprintf("line %d", i+1))
		}
		return
	}
	if contentType != "application/json" {
		return
	}
	checkJSON(tb, tmpl, status, schema, body, "body")
}

// checkJSON checks one JSON value, the body or a line of it, against schema.
func checkJSON(tb testing.TB, tmpl string, status int, schema map[string]any, body []byte, at string) {
	tb.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		tb.Errorf("%s %d: %s is not JSON: %v", tmpl, status, at, err)
		return
	}
	for _, e := range checkSchema(schema, v, at) {
		tb.Errorf("openapi.yaml: %s %d: %s", tmpl, status, e)
	}
}

// documentedParams returns the query parameters of an operation, with their examples.
func documentedParams(tb testing.TB, tmpl string) map[string]any {
	tb.Helper()
	op := spec()["paths"].(map[string]any)[tmpl].(map[string]any)["get"].(map[string]any)
	out := map[string]any{}
	for _, p := range op["parameters"].([]any) {
		p := resolve(p.(map[string]any))
		if p["in"] == "query" {
			out[p["name"].(string)] = p["example"]
		}
	}
	return out
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	env := newEnv(t)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		res := env.do(t, method, "/api/v1/openapi.yaml", "")
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/yaml" {
			t.Errorf("%s: got %d %q", method, res.status, res.header.Get("Content-Type"))
		}
		want := ""
		if method == http.MethodGet {
			want = string(openAPIDocument)
		}
		if string(res.body) != want {
			t.Errorf("%s: body is not the document", method)
		}
	}
	if v := spec()["openapi"]; v != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", v)
	}
}

// TestOpenAPIParametersMatchTheHandler checks that every documented query parameter of each
// endpoint is accepted with its example, and that the endpoint accepts no undocumented one.
func TestOpenAPIParametersMatchTheHandler(t *testing.T) {
	env := newEnv(t)
	for _, ago := range []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour} {
		s := session(accountA, env.agentA1, ago)
		s.RedactionsByKind = map[string]int{"PHONE": 1, "NAME": 100}
		env.put(t, s)
	}
	for tmpl, ep := range map[string]*endpoint{
		routeAgentSessions: agentEndpoint,
		routeSessions:      accountEndpoint,
	} {
		doc := documentedParams(t, tmpl)
		var accepted []string
		for _, p := range ep.params {
			accepted = append(accepted, paramNames[p])
		}
		var names []string
		for name := range doc {
			names = append(names, name)
		}
		slices.Sort(names)
		slices.Sort(accepted)
		if !slices.Equal(names, accepted) {
			t.Errorf("%s: documented %v, accepted %v", tmpl, names, accepted)
		}
		path := strings.Replace(tmpl, "{agent_id}", env.agentA1, 1)
		first := env.do(t, "GET", path+"?limit=1&since=30d", env.cookieA)
		for name, example := range doc {
			value := fmt.Sprint(example)
			switch name {
			case "cursor":
				value = first.page(t).NextCursor
				if value == "" {
					t.Fatal("no cursor to try")
				}
				value += "&since=30d"
			case "agent_id":
				value = env.agentA1
			}
			if example == nil && name != "cursor" {
				t.Errorf("%s: parameter %s has no example", tmpl, name)
			}
			res := env.do(t, "GET", path+"?"+name+"="+value, env.cookieA)
			if res.status != http.StatusOK {
				t.Errorf("%s?%s=%s: got %d %s", tmpl, name, value, res.status, res.body)
			}
		}
	}
}

// TestSchemaCheckerFindsErrors makes sure that the checker that keeps the document true does
// catch what it is meant to catch.
func TestSchemaCheckerFindsErrors(t *testing.T) {
	page := resolve(map[string]any{"$ref": "#/components/schemas/SessionPage"})
	errPage := resolve(map[string]any{"$ref": "#/components/schemas/Error"})
	good := `{"data":[{"id":"sess_01HYZ3N5TV0QW3Y0B7VQ6J3RFA","agent_id":"agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA","agent_name":"","started_at":"2026-05-03T21:14:32Z","ended_at":"2026-05-03T21:14:32.794Z","duration_ms":794,"status":"ok","redaction_count":1,"redactions_by_kind":{"PHONE":1},"upstream_model":null}],"next_cursor":null}`
	for _, tc := range []struct {
		name   string
		schema map[string]any
		body   string
		bad    bool
	}{
		{"good", page, good, false},
		{"missing field", page, strings.Replace(good, `"duration_ms":794,`, "", 1), true},
		{"extra field", page, strings.Replace(good, `"duration_ms":794,`, `"duration_ms":794,"x":1,`, 1), true},
		{"null data", page, strings.Replace(good, `"data":[`, `"data":null,"y":[`, 1), true},
		{"bad time", page, strings.Replace(good, "32.794Z", "32.794000Z", 1), true},
		{"not a date", page, strings.Replace(good, "2026-05-03T21:14:32Z", "2026-13-03T21:14:32Z", 1), true},
		{"bad status", page, strings.Replace(good, `"ok"`, `"fine"`, 1), true},
		{"float count", page, strings.Replace(good, `"duration_ms":794`, `"duration_ms":7.5`, 1), true},
		{"negative count", page, strings.Replace(good, `"duration_ms":794`, `"duration_ms":-1`, 1), true},
		{"bad kind count", page, strings.Replace(good, `"PHONE":1`, `"PHONE":"1"`, 1), true},
		{"error", errPage, `{"error":{"code":"unavailable","message":"m","request_id":"req_01HYZ3N5TV0QW3Y0B7VQ6J3RFA","details":[]}}`, false},
		{"error bad code", errPage, `{"error":{"code":"nope","message":"m","request_id":"req_01HYZ3N5TV0QW3Y0B7VQ6J3RFA","details":[]}}`, true},
		{"error no details", errPage, `{"error":{"code":"unavailable","message":"m","request_id":"req_01HYZ3N5TV0QW3Y0B7VQ6J3RFA"}}`, true},
	} {
		dec := json.NewDecoder(strings.NewReader(tc.body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if errs := checkSchema(tc.schema, v, "body"); (len(errs) > 0) != tc.bad {
			t.Errorf("%s: errors %v, want bad=%v", tc.name, errs, tc.bad)
		}
	}
	if errs := checkSchema(map[string]any{"type": "string", "format": "x"}, "s", "x"); len(errs) == 0 {
		t.Error("an unknown format was not reported")
	}
	if errs := checkSchema(map[string]any{"type": "array", "minItems": 1.0}, []any{"s"}, "x"); len(errs) == 0 {
		t.Error("an unknown keyword was not reported")
	}
}

// TestOpenAPISecurity checks that every operation but the document's own takes either
// credential, the cookie (CookieAuth) or a bearer token (BearerAuth), and that both schemes are
// defined as the handler reads them.
func TestOpenAPISecurity(t *testing.T) {
	schemes := spec()["components"].(map[string]any)["securitySchemes"].(map[string]any)
	wantSchemes := map[string]any{
		"masker_session": map[string]any{"type": "apiKey", "in": "cookie", "name": "masker_session"},
		"bearer":         map[string]any{"type": "http", "scheme": "bearer"},
	}
	for name, want := range wantSchemes {
		got, _ := schemes[name].(map[string]any)
		for k, v := range want.(map[string]any) {
			if got[k] != v {
				t.Errorf("securitySchemes.%s.%s = %v, want %v", name, k, got[k], v)
			}
		}
	}
	for tmpl, item := range spec()["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			sec, _ := op.(map[string]any)["security"].([]any)
			var names []string
			for _, req := range sec {
				for name := range req.(map[string]any) {
					names = append(names, name)
				}
			}
			want := []string{"masker_session", "bearer"}
			if tmpl == "/api/v1/openapi.yaml" {
				want = nil
			}
			if !slices.Equal(names, want) {
				t.Errorf("%s %s: security %v, want the alternatives %v", method, tmpl, names, want)
			}
		}
	}
}
