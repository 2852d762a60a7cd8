# jwtgate — the two commands a new machine needs are `make replay` and
# `make test`; both install what they need (Go modules, the Lambda Runtime
# Interface Emulator, npm packages) by themselves.

GO        ?= go
BIN       := $(CURDIR)/bin
RIE       := $(BIN)/aws-lambda-rie
RIE_PKG   := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
RIE_VER   := v0.0.0-20261030222936-bef5c4ba774d
FUZZTIME  ?= 5s
LDFLAGS   := -s -w -buildid=
BUILDFLAGS := -trimpath -ldflags='$(LDFLAGS)'

export CGO_ENABLED := 0

.PHONY: replay test vet unit crossarch fuzz idp redis tools bench bench-test bench-instr package events clean infra soak fuzz-long difffuzz-test mutation

## replay: sample events through the adapters against the embedded dev issuer
replay:
	$(GO) run ./functions/replay

## events: regenerate events/ (sample events, expectations.json, replay.env) from the test-only dev key
events:
	$(GO) run ./functions/replay events

## test: everything CI runs
test: vet unit fuzz infra bench-test difffuzz-test

# End-to-end tests skip unless these point at the installed parts; `make test`
# installs them and sets them, so CI always runs them.
IDP_DIR   := $(CURDIR)/functions/replay/idp
REDIS_SERVER := $(or $(shell command -v redis-server 2>/dev/null),/usr/bin/redis-server)
E2E_ENV   := JWTGATE_RIE=$(RIE) JWTGATE_IDP_DIR=$(IDP_DIR) JWTGATE_REDIS_SERVER=$(REDIS_SERVER)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags jwtgate_lean ./...

unit: tools idp redis crossarch
	$(E2E_ENV) $(GO) test -count=1 ./...

## crossarch: shared/rsaverify carries the standard library's Montgomery
## assembly for amd64 and arm64 (Lambda's recommended architecture), and
## shared/ed25519verify runs on filippo.io/edwards25519's: their tests run
## again without assembly (-tags purego) and as arm64 binaries under
## qemu-user (Debian's qemu-user-static, installed where missing)
crossarch:
	$(GO) test -count=1 -short -tags purego ./shared/rsaverify ./shared/ed25519verify ./shared/token
	@command -v qemu-aarch64-static >/dev/null || { apt-get update -qq && apt-get install -y -qq qemu-user-static >/dev/null; }
	@set -e; mkdir -p $(BIN); for p in rsaverify ed25519verify; do \
	  GOARCH=arm64 $(GO) test -c -o $(BIN)/$$p-arm64.test ./shared/$$p; \
	  echo "shared/$$p as arm64 under qemu-aarch64-static:"; \
	  (cd shared/$$p && qemu-aarch64-static $(BIN)/$$p-arm64.test -test.short -test.count=1); \
	done

## redis: the redis-server the shared DPoP replay store is tested against
## (Debian's package, installed where it is missing; run on loopback only)
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }

## idp: npm packages of the oidc-provider test identity provider
## (Node.js 20 comes with this project's machines; where npm is missing it is
## installed from Debian's packages)
idp:
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	@if [ -f $(IDP_DIR)/package.json ]; then npm ci --prefix $(IDP_DIR) --no-audit --no-fund --loglevel=error; fi

## fuzz: every fuzz target for a short budget (FUZZTIME=5m for a long run),
## in the product module and in the nested modules that hold fuzz targets
## (FUZZ_MODULES; shared/difffuzz: the FuzzDifferential… targets against jwx
## and golang-jwt). A failing input (written to the package's testdata/fuzz)
## fails at once. A run that fails without one is tried again (3 runs at
## most): on a loaded machine a worker can be lost, and Go 1.26's fuzzing
## coordinator can report "context deadline exceeded" when -fuzztime ends
## while a worker is busy (golang/go#75804, fixed in Go 1.27). Three runs
## that end only in that message are reported as the toolchain race, not as
## a failure; any other failure without an input fails on its third run.
FUZZ_MODULES ?= . shared/difffuzz
fuzz:
	@set -e; log=$$(mktemp); trap 'rm -f $$log' EXIT; \
	for mod in $(FUZZ_MODULES); do \
	  for pkg in $$($(GO) -C $$mod list ./...); do \
	    for t in $$($(GO) -C $$mod test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	      echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	      for try in 1 2 3; do \
	        if $(GO) -C $$mod test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg >$$log 2>&1; then \
	          grep 'fuzz: elapsed' $$log | tail -1; break; \
	        fi; \
	        cat $$log; \
	        if grep -q 'testdata/fuzz' $$log; then exit 1; fi; \
	        race=no; if grep -q 'context deadline exceeded' $$log && ! grep -q -E 'panic|fuzzing process|Failing input' $$log; then race=yes; fi; \
	        if [ $$try = 3 ]; then \
	          if [ $$race = yes ]; then echo "fuzz: $$t: three runs ended in Go's fuzztime race (golang/go#75804), no failing input: not a failure"; break; fi; \
	          exit 1; \
	        fi; \
	        echo "fuzz: $$t failed without a failing input (run $$try of 3; coordinator race: $$race); trying again"; \
	      done; \
	    done; \
	  done; \
	done

## difffuzz-test: the differential module's own tests (every seed holds the
## properties, every strictness class is reached and tabled in SECURITY.md)
difffuzz-test:
	cd shared/difffuzz && $(GO) vet ./... && $(GO) test -count=1 ./...

## mutation: mutation testing (gremlins) of the core packages, one package
## at a time; fails when a package's test efficacy (killed / (killed +
## lived)) is under MUTATION_EFFICACY. Not part of `make test`: it takes
## long. Results in bin/mutation/<package>.json; figures in SECURITY.md.
## GOFLAGS=-count=1: gremlins derives its per-mutant timeout from its
## coverage run, which go test's cache would otherwise answer in a blink.
GREMLINS          := $(BIN)/gremlins
GREMLINS_PKG      := github.com/go-gremlins/gremlins/cmd/gremlins
GREMLINS_VER      := v0.6.0
MUTATION_PKGS     ?= shared/jsonstrict shared/token shared/jwe shared/keys shared/validate shared/config shared/rsaverify shared/ed25519verify
MUTATION_EFFICACY ?= 90
MUTATION_FLAGS    ?= --workers 1 --test-cpu 1 --timeout-coefficient 5
mutation: $(GREMLINS)
	@mkdir -p $(BIN)/mutation; status=0; \
	for p in $(MUTATION_PKGS); do \
	  echo "mutation $$p"; \
	  GOFLAGS="-count=1 $$GOFLAGS" $(GREMLINS) unleash $(MUTATION_FLAGS) --threshold-efficacy $(MUTATION_EFFICACY) \
	    -o $(BIN)/mutation/$$(basename $$p).json ./$$p || status=1; \
	done; exit $$status

$(GREMLINS):
	GOBIN=$(BIN) $(GO) install $(GREMLINS_PKG)@$(GREMLINS_VER)

## soak: the Azure handler binary under sustained load (SOAK=5m; the 10 s
## version runs in `make test`); prints requests, statuses, RSS and JWKS fetches
SOAK      ?= 5m
soak:
	JWTGATE_SOAK_DURATION=$(SOAK) $(GO) test -count=1 -timeout 0 -run '^TestSustainedLoad$$' -v ./functions/hardening

## fuzz-long: every fuzz target for FUZZTIME each (default 5m)
fuzz-long:
	$(MAKE) fuzz FUZZTIME=$(if $(filter 5s,$(FUZZTIME)),5m,$(FUZZTIME))

## package: dist/lambda-arm64.zip, dist/lambda-amd64.zip and
## dist/azure-function.zip (host.json, handler, function folders); reproducible:
## -trimpath, stripped, no build id or VCS stamp, fixed zip timestamps and modes.
## Each Lambda zip holds two executables: bootstrap, the lean build (-tags
## jwtgate_lean: no CEL, go-redis or YAML policy decoder, so none of their
## package initialisers at start-up), and jwtgate-full, the standard build,
## which the lean bootstrap execs before it talks to the Runtime API when the
## configuration has a rule, a redis:// store or a YAML policy file.
## LEAN=1 packs the lean bootstrap alone (and builds the Azure handler lean):
## such a binary refuses a rule, a redis:// store or a YAML policy.
LEAN      ?=
comma     := ,
LEAN_TAGS  = $(if $(filter 1 true yes,$(LEAN)),jwtgate_lean)
DIST      ?= dist
DISTDIR    = $(abspath $(DIST))
HOST_JSON  = $(firstword $(wildcard host.json functions/azure/host.json))
FUNC_JSONS = $(shell find functions/azure -name function.json -not -path '*/testdata/*' | sort)

package:
	@rm -rf $(DISTDIR)/.build && mkdir -p $(DISTDIR)/.build
	@$(GO) -C infra/check build -mod=mod -o $(DISTDIR)/.build/pack ./cmd/pack
	@set -e; for arch in arm64 amd64; do \
	  GOOS=linux GOARCH=$$arch $(GO) build $(BUILDFLAGS) -buildvcs=false -tags lambda.norpc,jwtgate_lean -o $(DISTDIR)/.build/lambda-$$arch/bootstrap ./functions/lambda; \
	  $(if $(LEAN_TAGS),,GOOS=linux GOARCH=$$arch $(GO) build $(BUILDFLAGS) -buildvcs=false -tags lambda.norpc -o $(DISTDIR)/.build/lambda-$$arch/jwtgate-full ./functions/lambda;) \
	  $(DISTDIR)/.build/pack -o $(DISTDIR)/lambda-$$arch.zip -x bootstrap $(if $(LEAN_TAGS),,-x jwtgate-full) bootstrap=$(DISTDIR)/.build/lambda-$$arch/bootstrap \
	    $(if $(LEAN_TAGS),,jwtgate-full=$(DISTDIR)/.build/lambda-$$arch/jwtgate-full); \
	done
	@GOOS=linux GOARCH=amd64 $(GO) build $(BUILDFLAGS) -buildvcs=false $(if $(LEAN_TAGS),-tags $(LEAN_TAGS)) -o $(DISTDIR)/.build/azure/handler ./functions/azure
	@test -n "$(HOST_JSON)" || { echo "package: no host.json"; exit 1; }
	@test -n "$(FUNC_JSONS)" || { echo "package: no function.json under functions/azure"; exit 1; }
	@$(DISTDIR)/.build/pack -o $(DISTDIR)/azure-function.zip -x handler host.json=$(HOST_JSON) handler=$(DISTDIR)/.build/azure/handler \
	  $(foreach f,$(FUNC_JSONS),$(notdir $(patsubst %/,%,$(dir $(f))))/function.json=$(f))
	@rm -rf $(DISTDIR)/.build

## infra: offline checks of infra/ (SAM template, Bicep, zip layout and
## reproducibility, JWTGATE_ settings); a nested module keeps goformation out.
## -mod=mod: it replaces the product module with this checkout, whose
## dependencies may move ahead of the nested go.sum.
infra:
	cd infra/check && $(GO) test -mod=mod -count=1 ./...

## bench-test: the benchmark module's own tests (every case accepts its
## tokens and refuses a forged one; 1,000 cold requests share one fetch)
bench-test:
	cd shared/bench && $(GO) vet ./... && $(GO) test -count=1 ./...

## bench: performance side by side (a nested module keeps the peer libraries
## out of go.mod): one table of floor / jwtgate / jwx / golang-jwt / go-jose,
## -cpu 1,2 scaling with a mutex profile, Lambda cold start (size, direct and
## through the RIE) and Azure handler throughput; raw output in bin/bench/
BENCH_COUNT ?= 3
BENCH_OUT   := $(BIN)/bench
bench: tools
	@mkdir -p $(BENCH_OUT)
	cd shared/bench && $(GO) test -count=1 ./...
	cd shared/bench && $(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) | $(GO) run ./cmd/benchtable -tee $(BENCH_OUT)/bench.txt
	cd shared/bench && $(GO) test -run '^$$' -bench '^BenchmarkParallel$$' -benchmem -cpu 1,2 -count $(BENCH_COUNT) \
	  -mutexprofile $(BENCH_OUT)/mutex.out -o $(BENCH_OUT)/bench.test | $(GO) run ./cmd/benchtable -tee $(BENCH_OUT)/scaling.txt
	@printf '\n### Mutex profile (BenchmarkParallel, -cpu 1,2)\n\n```\n'; \
	  $(GO) tool pprof -top -nodecount 12 $(BENCH_OUT)/bench.test $(BENCH_OUT)/mutex.out 2>/dev/null | sed -n '1,20p'; printf '```\n'
	@$(MAKE) --no-print-directory bench-instr
	cd shared/bench && $(GO) run ./cmd/coldstart -repo $(CURDIR) -rie $(RIE)
	cd shared/bench && $(GO) run ./cmd/loadgen -repo $(CURDIR)

## bench-instr: instructions per uncached validation vs the floor, counted by
## valgrind's callgrind, so the ratio holds on a busy machine (installs
## valgrind from Debian's packages when it is missing); every run is
## tried up to 4 times, because valgrind 3.19 stops at the rdtscp that Go's
## runtime executes when a thread spins on a lock (which the longer DPoP
## cases sometimes hit); gcshrinkstackoff keeps a stack
## move from confusing callgrind's view of main.loop (some runs counted part
## of it, or nothing; a run that counted nothing is tried again)
BENCH_N ?= 200
# $(call cg_run,NAME,ARGS): instructions of `instr ARGS` under callgrind
# into cg.NAME and cg.NAME.log, tried up to 4 times (see above);
# $(call cg_count,NAME): that run's count, in a shell command substitution
cg_run = for try in 1 2 3 4; do \
	  GODEBUG=asyncpreemptoff=1,gcshrinkstackoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --collect-atstart=no --toggle-collect=main.loop \
	    --callgrind-out-file=$(BENCH_OUT)/cg.$(1) $(BENCH_OUT)/instr $(2) -n $(BENCH_N) 2>$(BENCH_OUT)/cg.$(1).log && ! grep -q 'Collected : 0$$' $(BENCH_OUT)/cg.$(1).log && break; \
	  grep -q 'Unrecognised instruction\|unhandled instruction\|Collected : 0$$' $(BENCH_OUT)/cg.$(1).log && [ $$try -lt 4 ] || { cat $(BENCH_OUT)/cg.$(1).log; exit 1; }; \
	done
cg_count = $$(grep -oE 'Collected : [0-9]+' $(BENCH_OUT)/cg.$(1).log | grep -oE '[0-9]+')

bench-instr:
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
	@mkdir -p $(BENCH_OUT) && cd shared/bench && $(GO) build -o $(BENCH_OUT)/instr ./cmd/instr
	@printf '\n### Instructions per validation (callgrind, %s iterations, 16 distinct tokens)\n\n| alg | floor | jwtgate uncached | ratio |\n|---|--:|--:|--:|\n' $(BENCH_N)
	@for alg in RS256 ES256 EdDSA; do \
	  for c in floor jwtgate; do $(call cg_run,$$alg.$$c,-alg $$alg -case $$c); done; \
	  f=$(call cg_count,$$alg.floor); j=$(call cg_count,$$alg.jwtgate); \
	  awk -v a=$$alg -v f=$$f -v j=$$j -v n=$(BENCH_N) 'BEGIN{printf "| %s | %d | %d | %.3f |\n", a, f/n, j/n, j/f}'; \
	done
	@printf '\n### Instructions around jwtgate'"'"'s own signature check (callgrind; floor-prepared: the check on a key prepared once)\n\n| alg | floor-prepared | jwtgate uncached | ratio |\n|---|--:|--:|--:|\n'
	@for alg in RS256 EdDSA; do \
	  $(call cg_run,$$alg.prepared,-alg $$alg -case floor-prepared); \
	  f=$(call cg_count,$$alg.prepared); j=$(call cg_count,$$alg.jwtgate); \
	  awk -v a=$$alg -v f=$$f -v j=$$j -v n=$(BENCH_N) 'BEGIN{printf "| %s | %d | %d | %.3f |\n", a, f/n, j/n, j/f}'; \
	done
	@printf '\n### DPoP (callgrind)\n\n| case | floor | jwtgate | ratio |\n|---|--:|--:|--:|\n'
	@$(call cg_run,dpop,-alg RS256 -case dpop); \
	 f=$(call cg_count,RS256.floor); j=$(call cg_count,dpop); \
	 awk -v f=$$f -v j=$$j -v n=$(BENCH_N) 'BEGIN{printf "| RS256 token + ES256 DPoP proof (new token and proof, memory replay store; target <= 2.2) | %d | %d | %.3f |\n", f/n, j/n, j/f}'
	@$(call cg_run,dpop-repeat,-alg RS256 -case dpop-repeat); \
	 f=$(call cg_count,ES256.floor); j=$(call cg_count,dpop-repeat); \
	 awk -v f=$$f -v j=$$j -v n=$(BENCH_N) 'BEGIN{printf "| cached RS256 token + new ES256 DPoP proof (floor: one ES256 verify; target about 1) | %d | %d | %.3f |\n", f/n, j/n, j/f}'
	@printf '\n### Entra / Cognito budget (callgrind, RS256, new token; same tokens without the checks; target < 1.02)\n\n| style | plain | checked | ratio |\n|---|--:|--:|--:|\n'
	@for st in entra cognito; do \
	  for c in $$st-plain $$st; do $(call cg_run,$$c,-alg RS256 -case $$c); done; \
	  p=$(call cg_count,$$st-plain); k=$(call cg_count,$$st); \
	  awk -v s=$$st -v p=$$p -v k=$$k -v n=$(BENCH_N) 'BEGIN{printf "| %s | %d | %d | %.4f |\n", s, p/n, k/n, k/p}'; \
	done

tools: $(RIE)

$(RIE):
	GOBIN=$(BIN) $(GO) install $(RIE_PKG)@$(RIE_VER)

clean:
	rm -rf $(BIN) dist
