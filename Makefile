# Colo: `make demo` and `make test` each run `make setup` first, so either
# one sets up a fresh Debian 12 / Ubuntu 22.04+ machine (as root).
VENV ?= .venv
PY := $(VENV)/bin/python
SYSTEM_PACKAGES := libdpdk-dev dpdk-dev pkg-config build-essential libpcap-dev \
	python3-venv python3-dev iproute2 ethtool
INSTALLED := $(VENV)/.colo-installed
SOURCES := pyproject.toml setup.py dataplane/build_ffi.py $(wildcard c_src/*.[ch] c_src/include/*.h)

.PHONY: setup system-packages demo test bench clean

setup: system-packages $(INSTALLED)

# Installs only what is missing, so a set-up machine is left untouched.
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(INSTALLED): $(SOURCES)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test]'
	touch $@

demo: setup
	$(VENV)/bin/colo demo

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info dataplane/_colo.* c_src/*.o
