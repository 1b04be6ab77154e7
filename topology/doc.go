// Package topology holds the production-shaped topology test (issue 11):
// the production binaries, two workers and two servers, on Temporal with
// PostgreSQL persistence and a PostgreSQL read model, with a worker killed
// mid-run. It has no code of its own; see topology_test.go and
// deploy/topology.md.
package topology
