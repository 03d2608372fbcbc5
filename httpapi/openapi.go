package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 document of the endpoints. It is written in the JSON
// subset of YAML 1.2, so that it is valid YAML for every tool and the tests read it with
// encoding/json, without a YAML library.
//
//go:embed openapi.yaml
var openAPIDocument []byte

// serveOpenAPI serves the OpenAPI document, without authentication: it holds no account data.
func (h *Handler) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	id := startResponse(w, r, "no-cache")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.writeError(w, r, id, errMethodNotAllowed)
		return
	}
	writeBody(w, r, http.StatusOK, "application/yaml", openAPIDocument)
}
