# tests/sim/sim.mk: the traffic simulator's targets (tests/sim/README.md),
# included by the main Makefile. Live runs need root, cgroup v2 and BTF, as
# the integration tests do.
#   make sim-deps    npm ci in tests/sim (the openai npm client), idempotent
#   make eval        every scenario live and offline, writes tests/sim/RESULTS.md
#                    (SIM_ARGS="--check" to fail on the detection targets,
#                    SIM_ARGS="--scenarios farm-proxy,trap-batch" for some)
#   make demo        mock server, agent (alerts on stdout), organic traffic and
#                    a farm, until the first farm alert or 120 s
#   make sim-smoke   the short pass `make test` runs (SIM_SMOKE_ARGS=--no-detection
#                    leaves the detection targets out)
# tests/sim/drill.conf, when present, is passed to the agent as --config by
# eval, demo and sim-smoke.

SIM_DIR := tests/sim
SIM_PY ?= python3
SIM_ARGS ?=
SIM_SMOKE_ARGS ?=
SIM_CONFIG := $(wildcard $(SIM_DIR)/drill.conf)
SIM_BINS := $(OUTPUT)/hydrawatch $(OUTPUT)/tools/hwserve
SIM_ENV = HW_BUILD=$(abspath $(OUTPUT))
SIM_STAMP := $(SIM_DIR)/node_modules/.package-lock.json

.PHONY: sim-deps eval demo sim-smoke

sim-deps: $(SIM_STAMP)

# npm ci writes node_modules/.package-lock.json: newer than the lock file
# means installed
$(SIM_STAMP): $(SIM_DIR)/package.json $(SIM_DIR)/package-lock.json
	$(call msg,NPM,$(SIM_DIR))
	$(Q)cd $(SIM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	$(Q)touch $@

eval: $(SIM_BINS) sim-deps
	$(Q)$(SIM_ENV) $(SIM_PY) $(SIM_DIR)/eval.py $(if $(SIM_CONFIG),--config $(SIM_CONFIG)) $(SIM_ARGS)

demo: $(SIM_BINS) sim-deps
	$(Q)$(SIM_ENV) $(SIM_PY) $(SIM_DIR)/run.py --demo $(if $(SIM_CONFIG),--config $(SIM_CONFIG)) $(SIM_ARGS)

sim-smoke: $(SIM_BINS) sim-deps
	$(Q)$(SIM_ENV) $(SIM_PY) $(SIM_DIR)/smoke.py $(if $(SIM_CONFIG),--config $(SIM_CONFIG)) $(SIM_SMOKE_ARGS)
