// Package tenanttest holds the tenant-isolation property test: random accounts, agents,
// sessions, requests and cursors over the HTTP API, on every store of this module. It has no
// code outside its tests.
package tenanttest
