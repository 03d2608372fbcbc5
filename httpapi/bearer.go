package httpapi

import (
	"context"
	"net/http"
	"strings"
)

// BearerAuth returns an Authenticate function for Config that reads a bearer token from the
// Authorization header ("Authorization: Bearer TOKEN", RFC 6750; the scheme is matched without
// regard to case) and asks verify for the account it grants. A missing header, another scheme or
// an empty token gives ErrUnauthenticated without calling verify. Verify returns an error
// matching ErrUnauthenticated for an invalid, expired or insufficiently scoped token (a token that
// may not read sessions, for example); any other error from verify means that the token could
// not be checked, and is passed on as it is (see Config.Authenticate): one matching
// sessions.ErrUnavailable or context.DeadlineExceeded gives 503 unavailable, anything else 500
// internal_error, logged and never shown. An empty account ID from verify counts as
// unauthenticated.
//
// The 401 response says "A valid bearer token is required." The returned function is safe for
// concurrent use when verify is.
func BearerAuth(verify func(ctx context.Context, token string) (accountID string, err error)) func(*http.Request) (string, error) {
	const credential = "bearer token"
	return func(r *http.Request) (string, error) {
		return verifyCredential(r.Context(), credential, bearerToken(r.Header.Get("Authorization")), verify)
	}
}

// bearerToken returns the token of an Authorization header value "Bearer TOKEN", or "" when
// there is none.
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimLeft(token, " ")
}
