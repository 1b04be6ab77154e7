// Package observability holds no code: it is the home of the Grafana
// dashboard (grafana/aftersales.json) and the Prometheus alert rules
// (prometheus/alerts.yaml), and of the tests that keep them honest: the
// rules pass promtool's check and unit tests, every metric name they and
// the dashboard use is one the server or the worker really exports, and a
// real scrape of both passes promtool check metrics. See README.md.
package observability
