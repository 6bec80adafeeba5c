# wasmslim - WebAssembly binary optimizer.  C11 + libc (+ pthreads).
#   make          build/wasmslim (release, -O3)
#   make demo     build and run a demo on a bundled fixture
#   make check    install test dependencies if missing, run every test (also under ASan+UBSan)
#   make bench    speed/memory/size against wasm-opt on the public corpus (downloads via npm),
#                 then what metering costs on the C fixtures (tests/bench/meter.sh), then
#                 `make corpus`
#   make corpus   the corpus's programs (SQLite, esbuild, Ruby), C/C++ programs built
#                 with Emscripten (exceptions, threads, SIMD, setjmp, dynamic linking),
#                 Rust and AssemblyScript programs (installs Debian's emscripten and
#                 rustc, npm's assemblyscript, when missing) run after every -O level,
#                 stripping and metering, and print what the originals print
CC      ?= cc
BUILD   ?= build
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -Iir
CFLAGS  ?= -O3 -g
ALL_CFLAGS := $(CSTD) $(WARN) $(CFLAGS) -pthread -MMD -MP
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS  := -pthread
# The program is linked statically: no dynamic loader, relocations or lazy binding at
# start, and thread-local data at fixed offsets (sql-wasm.wasm -O1: 13.4 -> 11.9 ms,
# --version 2.9 -> 2.1 ms). `make STATIC=` links it dynamically.
STATIC  ?= -static

LIB_SRC  := $(sort $(wildcard ir/*.c passes/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
SAN_LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
SAN_CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/san/%.o)
SAN_UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/san/%.o)

.PHONY: all demo check unit unit-san bench corpus fuzz clean
all: $(BUILD)/wasmslim

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(SANFLAGS) -DWS_DEBUG=1 -pthread -MMD -MP -c $< -o $@

$(BUILD)/libwasmslim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/wasmslim: $(CLI_OBJ) $(BUILD)/libwasmslim.a
	$(CC) $(CFLAGS) $(STATIC) -o $@ $^ $(LDLIBS)

$(BUILD)/wasmslim-san: $(SAN_CLI_OBJ) $(SAN_LIB_OBJ)
	$(CC) $(SANFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test_unit: $(UNIT_OBJ) $(BUILD)/libwasmslim.a
	$(CC) $(CFLAGS) -o $@ $^ -lcriterion $(LDLIBS)

$(BUILD)/test_unit-san: $(SAN_UNIT_OBJ) $(SAN_LIB_OBJ)
	$(CC) $(SANFLAGS) -o $@ $^ -lcriterion $(LDLIBS)

# libFuzzer targets (tests/fuzz/): the library built with -fsanitize=fuzzer-no-link and the
# sanitizers, plus one target each.  make fuzz FUZZ_SECONDS=N runs both for N seconds.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzzobj/%.o)

$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CSTD) $(WARN) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -DWS_DEBUG=1 -pthread -MMD -MP -c $< -o $@

$(BUILD)/fuzz_read: $(BUILD)/fuzzobj/tests/fuzz/fuzz_read.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz_pipeline: $(BUILD)/fuzzobj/tests/fuzz/fuzz_pipeline.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: $(BUILD)/fuzz_read $(BUILD)/fuzz_pipeline
	BUILD=$(BUILD) bash tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS)

demo: $(BUILD)/wasmslim
	@echo "== size profile of the demo module (fixtures/demo/hello.wasm, clang -O1 -g)"
	$(BUILD)/wasmslim fixtures/demo/hello.wasm --profile=5
	@echo "== strip debug info and compact the code, with a before/after table"
	$(BUILD)/wasmslim fixtures/demo/hello.wasm --strip-debug --stats -o $(BUILD)/demo.wasm
	@if command -v node >/dev/null; then echo "== run it under node"; \
	  node --no-warnings tests/diff/wasi-run.mjs $(BUILD)/demo.wasm; fi

unit: $(BUILD)/test_unit
	$(BUILD)/test_unit

unit-san: $(BUILD)/test_unit-san
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(BUILD)/test_unit-san

check:
	bash tests/check.sh

bench: $(BUILD)/wasmslim $(BUILD)/wasmslim-san
	bash tests/bench/bench.sh
	bash tests/bench/meter.sh
	bash tests/corpus/run.sh $(BUILD)/wasmslim
	BUILD=$(BUILD) bash tests/corpus/emscripten.sh $(BUILD)/wasmslim
	BUILD=$(BUILD) bash tests/corpus/rust.sh $(BUILD)/wasmslim
	BUILD=$(BUILD) bash tests/corpus/assemblyscript.sh $(BUILD)/wasmslim

corpus: $(BUILD)/wasmslim $(BUILD)/wasmslim-san
	bash tests/corpus/run.sh $(BUILD)/wasmslim
	BUILD=$(BUILD) bash tests/corpus/emscripten.sh $(BUILD)/wasmslim
	BUILD=$(BUILD) bash tests/corpus/rust.sh $(BUILD)/wasmslim
	BUILD=$(BUILD) bash tests/corpus/assemblyscript.sh $(BUILD)/wasmslim

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
