# The two commands of README.md: `make run` and `make test`.
export GOTOOLCHAIN := local
GOBIN := $(CURDIR)/bin
WORKFLOWCHECK_VERSION := v0.6.0
SQLC_VERSION := v1.31.1
# helm renders and lints the chart in deploy/helm (deploy/helm_test.go).
HELM_VERSION := v3.22.0

.PHONY: run test vet workflowcheck generate build clean-data fuzz bench

## run: the whole service on embedded defaults (Ctrl-C stops it; data stays in .data/)
run:
	go build -o $(GOBIN)/aftersales-dev ./cmd/dev
	$(GOBIN)/aftersales-dev

## test: vet, the determinism check, and every test (unit, PostgreSQL, end to end)
test: vet workflowcheck $(GOBIN)/helm
	# One package at a time (-p 1): the end-to-end, browser, topology and
	# devstack tests each start their own Temporal server and PostgreSQL on
	# ports picked as free; run side by side on 2 cores they raced for ports
	# and CPU (a devstack test lost its port once). Serial costs ~2 minutes.
	go test -count=1 -p 1 ./...

## bench: the console's board over 10,000 open complaints (issue 10), then the benchmark of issue 9 on a fresh stack it starts itself, e.g. `make bench BENCH_ARGS="-burst 2000"` (-h lists the sizes)
bench: build
	go test -run '^$$' -bench BoardAt10k -benchtime 20x ./console
	go build -o $(GOBIN)/aftersales-dev ./cmd/dev
	go run ./cmd/bench $(BENCH_ARGS)

## fuzz: each fuzz target for FUZZTIME (default 20s) beyond its seeds, e.g. `make fuzz FUZZTIME=30s`
FUZZTIME ?= 20s
fuzz:
	go test -run '^$$' -fuzz '^FuzzText$$' -fuzztime $(FUZZTIME) ./input/
	go test -run '^$$' -fuzz '^FuzzLine$$' -fuzztime $(FUZZTIME) ./input/
	go test -run '^$$' -fuzz '^FuzzID$$' -fuzztime $(FUZZTIME) ./input/
	go test -run '^$$' -fuzz '^FuzzKey$$' -fuzztime $(FUZZTIME) ./input/
	go test -run '^$$' -fuzz '^FuzzDecodeBody$$' -fuzztime $(FUZZTIME) ./server/
	go test -run '^$$' -fuzz '^FuzzCommandBodies$$' -fuzztime $(FUZZTIME) ./server/

vet:
	go vet ./...

workflowcheck: $(GOBIN)/workflowcheck
	$(GOBIN)/workflowcheck ./workflows/...

$(GOBIN)/workflowcheck:
	GOBIN=$(GOBIN) go install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

## build: the production binaries (server, worker, migrate) into bin/
build:
	go build -o $(GOBIN)/ ./cmd/server ./cmd/worker ./cmd/migrate

## generate: regenerate the typed SQL in db/ from db/queries and migrations/
generate: $(GOBIN)/sqlc
	cd db && $(GOBIN)/sqlc generate

$(GOBIN)/sqlc:
	GOBIN=$(GOBIN) go install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)

$(GOBIN)/helm:
	GOBIN=$(GOBIN) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

## clean-data: forget everything `make run` stored (stop it first)
clean-data:
	rm -rf .data
