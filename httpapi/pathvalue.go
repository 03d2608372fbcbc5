package httpapi

import (
	"fmt"
	"net/http"
)

// errNoPathValue is the error of a request to a route with a path parameter that reached the
// handler without it: the router that mounts the handler does not pass its path parameters on
// (gin.WrapH and echo.WrapHandler keep them in their own context), or Config.AgentID or
// Config.SessionID reads the wrong one. It is a configuration error of the server, not of the
// request: every request to the route fails alike, so it answers 500 internal_error (the client
// can do nothing about it) and is logged, with the fix, at error level. Treating it as an
// unknown agent would give a silent 404 for every agent.
type errNoPathValue struct {
	route  string // the route's pattern: "/api/v1/agents/{agent_id}/sessions"
	param  string // the path parameter: "agent_id"
	field  string // the Config field that reads it: "AgentID"
	custom bool   // whether that field is set (else r.PathValue is read)
}

func (e errNoPathValue) Error() string {
	if e.custom {
		return fmt.Sprintf("httpapi: configuration error: Config.%s returned an empty %s for a request to %s; "+
			"make it return the router's path parameter (chi: chi.URLParam(r, %q)), or leave it nil and call "+
			"r.SetPathValue(%q, value) in the router before the handler", e.field, e.param, e.route, e.param, e.param)
	}
	return fmt.Sprintf("httpapi: configuration error: a request to %s has no path value %q: the router that mounts "+
		"the handler keeps its path parameters elsewhere (gin.WrapH and echo.WrapHandler do); call "+
		"r.SetPathValue(%q, value) in the router before the handler (gin: c.Param(%q); echo: c.Param(%q)), "+
		"or set Config.%s to read it from the router", e.route, e.param, e.param, e.param, e.param, e.field)
}

// pathValue returns the value of a route's path parameter through get (Config.AgentID or
// Config.SessionID, or r.PathValue), or errNoPathValue when it is empty. No router that matches
// the route passes an empty segment as a parameter, so an empty value means that the parameter
// was not passed at all.
func pathValue(r *http.Request, get func(*http.Request) string, custom bool, route, param, field string) (string, error) {
	if v := get(r); v != "" {
		return v, nil
	}
	return "", errNoPathValue{route: route, param: param, field: field, custom: custom}
}
