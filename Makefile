# The portal's two commands: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
GO ?= go
NHSUK := node_modules/nhsuk-frontend/dist/nhsuk
VENDOR := public/vendor/nhsuk
BIN := bin/portal

# go.mod's toolchain line names the Go release the portal is built and tested with; `auto` lets the go
# command fetch it from the module proxy when the installed Go is older (a Go installed with
# GOTOOLCHAIN=local would otherwise ignore the line). `make GOTOOLCHAIN=local …` keeps the installed one.
export GOTOOLCHAIN := auto

.PHONY: run test bench fuzz vulncheck assets build vet staticcheck fmt-check tidy-check clean

run: build
	$(BIN) seed --demo
	$(BIN) serve

# The binary is rebuilt only when a file it is made from has changed, so that `make run` starts at once
# when nothing has (a `go build` that finds nothing to do still takes about a second).
GO_INPUTS := $(shell find cmd app forms views migrations public -type f -not -name '*_test.go' -not -path '*/testdata/*') go.mod go.sum

build: $(BIN)

$(BIN): $(VENDOR)/.stamp $(GO_INPUTS)
	$(GO) build -o $(BIN) ./cmd/portal

# The NHS design system comes from npm; only the files the portal serves are copied into public/vendor
# (git-ignored) so that they are embedded into the binary. Its CSS loads the Frutiger font from
# assets.nhs.uk; the portal serves nothing from elsewhere (its CSP says font-src 'self'), so those
# @font-face rules are dropped and text falls back to Arial, as the design system intends offline.
assets: $(VENDOR)/.stamp

$(VENDOR)/.stamp: package.json package-lock.json Makefile
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	sed -E 's/@font-face\{[^}]*assets\.nhs\.uk[^}]*\}//g' $(NHSUK)/nhsuk-frontend.min.css > $(VENDOR)/nhsuk-frontend.min.css
	cp $(NHSUK)/nhsuk-frontend.min.js $(VENDOR)/
	cp -r $(NHSUK)/assets $(VENDOR)/assets
	touch $@

fmt-check:
	@out=$$(gofmt -l cmd app forms views migrations public); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet: assets
	$(GO) vet ./...

staticcheck: assets
	$(GO) tool staticcheck ./...

# go.mod and go.sum must be what `go mod tidy` makes of the code: every requirement the code imports is
# direct, nothing unused is left.
tidy-check:
	$(GO) mod tidy -diff

test: assets fmt-check tidy-check vet staticcheck
	$(GO) test -race -count=1 -timeout 20m ./...

# Benchmarks on a database of synthetic requests, built once per package (100,000 of them, about a
# minute each; PORTAL_BENCH_REQUESTS=5000 for a quick try). Never part of `make test`. A slow page gets
# few requests in 3 s; BENCHTIME=60s gives its p99 more to go on.
BENCHTIME ?= 3s
bench: assets
	$(GO) test -run '^$$' -bench . -benchtime=$(BENCHTIME) -timeout 60m ./app/ ./app/request/ ./app/schedule/pdf/

# Fuzzing: each target in turn for FUZZTIME (10 minutes each, about 40 in all): form decoding, the
# requests list's filter, comment and @mention rendering, and the post-sign-in redirect. Their seed
# corpora are in app/testdata/fuzz, which `make test` runs as ordinary tests; an input that fails is
# written there too, and fails the run. Not part of `make test`.
FUZZTIME ?= 10m
FUZZ_TARGETS := FuzzFormDecoding FuzzRequestFilter FuzzCommentRendering FuzzSafeNext
fuzz: assets
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./app/; \
	done

# govulncheck against a vulnerability database built locally from the golang.org/x/vulndb module (the
# public database's OSV files, served by the module proxy) with its own cmd/indexdb. It reports only
# vulnerabilities the portal's code (tests included) can reach, and fails on any. Needs downloads the
# first time, so it is not part of `make test`.
VULN_VERSION ?= v1.9.0
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
VULNDB := bin/vulndb
vulncheck: assets
	GOBIN=$(abspath bin) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(VULN_VERSION)
	GOBIN=$(abspath bin) $(GO) install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION)
	osv=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
		test -d "$$osv/data/osv" && rm -rf $(VULNDB) && bin/indexdb -vulns "$$osv/data/osv" -out $(VULNDB)
	bin/govulncheck -test -db file://$(abspath $(VULNDB)) ./...

clean:
	rm -rf bin $(VENDOR)
