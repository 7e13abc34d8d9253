# The portal's two commands: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
GO ?= go
NHSUK := node_modules/nhsuk-frontend/dist/nhsuk
VENDOR := public/vendor/nhsuk
BIN := bin/portal

.PHONY: run test bench assets build vet staticcheck fmt-check clean

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

test: assets fmt-check vet staticcheck
	$(GO) test -race -count=1 -timeout 20m ./...

# Benchmarks on a database of synthetic requests, built once per package (100,000 of them, about a
# minute each; PORTAL_BENCH_REQUESTS=5000 for a quick try). Never part of `make test`. A slow page gets
# few requests in 3 s; BENCHTIME=60s gives its p99 more to go on.
BENCHTIME ?= 3s
bench: assets
	$(GO) test -run '^$$' -bench . -benchtime=$(BENCHTIME) -timeout 60m ./app/ ./app/request/ ./app/schedule/pdf/

clean:
	rm -rf bin $(VENDOR)
