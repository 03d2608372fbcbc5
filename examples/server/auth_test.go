package main

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/masker-dev/sessions/httpapi"
)

func TestDemoAuth(t *testing.T) {
	auth := demoAuth("c00k1e", "sessions_read_t0k3n")
	for _, tc := range []struct {
		name, header, value string
		ok                  bool
	}{
		{"cookie", "Cookie", "masker_session=c00k1e", true},
		{"token", "Authorization", "Bearer sessions_read_t0k3n", true},
		{"wrong cookie", "Cookie", "masker_session=sessions_read_t0k3n", false},
		{"wrong token", "Authorization", "Bearer c00k1e", false},
		{"neither", "", "", false},
	} {
		r := httptest.NewRequest("GET", "/api/v1/sessions", nil)
		if tc.header != "" {
			r.Header.Set(tc.header, tc.value)
		}
		account, err := auth(r)
		if tc.ok && (err != nil || account != demoAccount) {
			t.Errorf("%s: %q, %v; want %q", tc.name, account, err, demoAccount)
		}
		if !tc.ok && !errors.Is(err, httpapi.ErrUnauthenticated) {
			t.Errorf("%s: %q, %v; want ErrUnauthenticated", tc.name, account, err)
		}
	}
}
