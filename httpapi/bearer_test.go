package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

func TestBearerAuth(t *testing.T) {
	verified := []string{}
	auth := BearerAuth(func(ctx context.Context, token string) (string, error) {
		verified = append(verified, token)
		switch token {
		case "empty":
			return "", nil
		case "down":
			return "", sessions.ErrUnavailable
		case "write-only":
			return "", ErrUnauthenticated
		}
		return "acct_" + token, nil
	})
	for _, tc := range []struct {
		header  string
		account string
		err     error
	}{
		{"", "", ErrUnauthenticated},
		{"Basic dXNlcjpwYXNz", "", ErrUnauthenticated},
		{"Bearer", "", ErrUnauthenticated},
		{"Bearer ", "", ErrUnauthenticated},
		{"Bearertok", "", ErrUnauthenticated},
		{"Bearer tok", "acct_tok", nil},
		{"bearer  tok2", "acct_tok2", nil},
		{"Bearer empty", "", ErrUnauthenticated},
		{"Bearer write-only", "", ErrUnauthenticated},
		{"Bearer down", "", sessions.ErrUnavailable},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		account, err := auth(r)
		if account != tc.account || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%q: %q, %v; want %q, %v", tc.header, account, err, tc.account, tc.err)
		}
	}
	if diff := cmp.Diff([]string{"tok", "tok2", "empty", "write-only", "down"}, verified); diff != "" {
		t.Errorf("tokens verified (-want +got):\n%s", diff)
	}
}

// TestBearerAuthResponse checks the 401 that a handler with BearerAuth gives: it names the bearer
// token, and a good token lists sessions.
func TestBearerAuthResponse(t *testing.T) {
	env := newEnv(t, func(c *Config) {
		c.Authenticate = BearerAuth(func(ctx context.Context, token string) (string, error) {
			if token != "sessions-read" {
				return "", ErrUnauthenticated
			}
			return accountA, nil
		})
	})
	for _, tc := range []struct {
		header string
		status int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer nope", http.StatusUnauthorized},
		{"Bearer sessions-read", http.StatusOK},
	} {
		r := httptest.NewRequest("GET", "/api/v1/sessions", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		w := httptest.NewRecorder()
		env.h.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%q: status %d, want %d", tc.header, w.Code, tc.status)
			continue
		}
		if tc.status != http.StatusUnauthorized {
			continue
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if body.Error.Code != "unauthenticated" || body.Error.Message != "A valid bearer token is required." {
			t.Errorf("%q: error %+v", tc.header, body.Error)
		}
	}
}
