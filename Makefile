# Stockroom: one Makefile, pkg-config, no configure step.
#
#   make            build build/stockroom
#   make run        install what is missing, build, serve on 127.0.0.1:8080
#   make test       install what is missing, run every test (last line: N passed, N failed)
#   make check      layering and style checks
#   make bench      benchmarks side by side with their references

CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2
SAN     ?=
FAULTS  ?=
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wsign-compare \
           -Wformat=2 -Wformat-nonliteral
CFLAGS   = -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) $(SAN) $(FAULTS) -pthread
LDFLAGS  = $(SAN) -pthread

pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

IMG_PKGS = vips
DB_PKGS  = sqlite3
SRV_PKGS = libmicrohttpd vips sqlite3 libcurl libsodium jansson libcrypto
TEST_PKGS = cmocka libcurl jansson sqlite3

IMG_SRC = $(wildcard imaging/*.c)
DB_SRC  = $(wildcard db/*.c)
SRV_SRC = $(wildcard server/*.c)

IMG_OBJ = $(IMG_SRC:%.c=$(BUILD)/%.o)
DB_OBJ  = $(DB_SRC:%.c=$(BUILD)/%.o)
SRV_OBJ = $(SRV_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC  = $(wildcard tests/unit/test_*.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
HTTP_SRC  = $(wildcard tests/http/test_*.c)
HTTP_BIN  = $(HTTP_SRC:tests/http/%.c=$(BUILD)/tests/http/%)
HTTP_LIB  = $(filter-out $(HTTP_SRC),$(wildcard tests/http/*.c))

.PHONY: all asan tsan run test check bench clean deps-run deps-test unit http browser

all: $(BUILD)/stockroom

# imaging/ and db/ see only their own folder: the layering rule of STYLE.md.
$(BUILD)/imaging/%.o: imaging/%.c imaging/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iimaging $(call pc_cflags,$(IMG_PKGS)) -c $< -o $@

$(BUILD)/db/%.o: db/%.c db/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idb $(call pc_cflags,$(DB_PKGS)) -c $< -o $@

$(BUILD)/server/%.o: server/%.c server/*.h imaging/*.h db/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iserver -Iimaging -Idb $(call pc_cflags,$(SRV_PKGS)) -c $< -o $@

$(BUILD)/libimaging.a: $(IMG_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libdb.a: $(DB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/stockroom: $(SRV_OBJ) $(BUILD)/libimaging.a $(BUILD)/libdb.a
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(SRV_PKGS)) -lm

# A unit test links only the library of the module it tests; those of
# imaging/ share one fixture (imaging_kit.c).
$(BUILD)/tests/unit/test_imaging_%: tests/unit/test_imaging_%.c tests/unit/imaging_kit.c tests/unit/imaging_kit.h $(BUILD)/libimaging.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iimaging $(call pc_cflags,$(IMG_PKGS) cmocka) -o $@ $(filter-out %.h,$^) $(call pc_libs,$(IMG_PKGS) cmocka) -lm

# The server's pure parts are tested with just their own objects.
$(BUILD)/tests/unit/test_server: tests/unit/test_server.c $(BUILD)/server/config.o $(BUILD)/server/text.o $(BUILD)/server/parse.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iserver $(call pc_cflags,cmocka) -o $@ $^ $(call pc_libs,cmocka)

# What a message looks like: the renderer alone, with jansson and libsodium.
$(BUILD)/tests/unit/test_mail: tests/unit/test_mail.c $(BUILD)/server/mail_render.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iserver -Idb $(call pc_cflags,cmocka jansson libsodium) -o $@ $^ $(call pc_libs,cmocka jansson libsodium)
# The webhook signature check is pure: its own object and libsodium.
$(BUILD)/tests/unit/test_stripe_sig: tests/unit/test_stripe_sig.c $(BUILD)/server/stripe_sig.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iserver $(call pc_cflags,cmocka libsodium) -o $@ $^ $(call pc_libs,cmocka libsodium)

$(BUILD)/tests/unit/test_%: tests/unit/test_%.c $(BUILD)/libdb.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idb $(call pc_cflags,$(DB_PKGS) cmocka) -o $@ $^ $(call pc_libs,$(DB_PKGS) cmocka) -lm

$(BUILD)/tests/http/%: tests/http/%.c $(HTTP_LIB) tests/http/*.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/http $(call pc_cflags,$(TEST_PKGS) libsodium) -o $@ $< $(HTTP_LIB) $(call pc_libs,$(TEST_PKGS) libsodium) -lm

# The benchmark's catalogue generator: linked with db/ only, never part of
# the server.
$(BUILD)/scripts/gen-catalogue: scripts/gen-catalogue.c $(BUILD)/libdb.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idb $(call pc_cflags,$(DB_PKGS)) -o $@ $^ $(call pc_libs,$(DB_PKGS)) -lm

unit: $(UNIT_BIN)
http: $(HTTP_BIN)

deps-run:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

run: deps-run
	$(MAKE) all
	mkdir -p var
	$(BUILD)/stockroom serve --listen 127.0.0.1:8080 --data var

# The sanitizer build lives beside the normal one; the HTTP tests run against
# it. Only it has the fault-injection hooks (db/fault.h).
ASAN_VARS = BUILD=build/asan OPT=-O1 FAULTS=-DSTOCKROOM_FAULTS \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

asan:
	$(MAKE) $(ASAN_VARS) all unit

# ThreadSanitizer: the ledger and catalogue unit tests and the HTTP
# concurrency tests run against this build (tests/tsan.supp silences GLib
# and libvips internals only).
tsan:
	$(MAKE) BUILD=build/tsan OPT=-O1 SAN="-fsanitize=thread" \
	    all $(patsubst tests/unit/%.c,build/tsan/tests/unit/%,\
	        $(wildcard tests/unit/test_ledger*.c tests/unit/test_cat*.c))

test: deps-test
	$(MAKE) all unit http
	@scripts/check.sh
	$(MAKE) asan
	$(MAKE) tsan
	$(MAKE) fuzz-build
	@scripts/run-tests.sh

# --- Fuzzing (issue 10, item 8) ---------------------------------------------
# libFuzzer targets, built with clang in build/fuzz: the libraries with
# coverage (fuzzer-no-link), each target linked with the fuzzer's main.
# `make fuzz` runs each for FUZZ_SECONDS; `make test` replays the seeds and
# runs each for a few seconds (scripts/run-tests.sh).
FUZZ_BUILD   = build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     = -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_IMG = sniff xmp iptc exif base
FUZZ_DB  = search cursor ids
FUZZ_SRV = text
# The client-byte parsers of server/parse.c (the split of http.c), once
# that file is in the tree.
FUZZ_PARSE = $(if $(wildcard server/parse.h),json_depth etag unescape int route)
# The Stripe webhook signature check: pure, its own object and libsodium.
FUZZ_SIG = stripe_sig
FUZZ_NAMES = $(FUZZ_IMG) $(FUZZ_DB) $(FUZZ_SRV) $(FUZZ_PARSE) $(FUZZ_SIG)
FUZZ_BIN = $(FUZZ_NAMES:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-bins

$(FUZZ_IMG:%=$(BUILD)/tests/fuzz/fuzz_%): $(BUILD)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/*.h $(BUILD)/libimaging.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Iimaging $(call pc_cflags,$(IMG_PKGS)) -o $@ $< $(BUILD)/libimaging.a $(call pc_libs,$(IMG_PKGS)) -lm

$(FUZZ_DB:%=$(BUILD)/tests/fuzz/fuzz_%): $(BUILD)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/*.h $(BUILD)/libdb.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Idb $(call pc_cflags,$(DB_PKGS)) -o $@ $< $(BUILD)/libdb.a $(call pc_libs,$(DB_PKGS)) -lm

$(BUILD)/tests/fuzz/fuzz_text: tests/fuzz/fuzz_text.c $(BUILD)/server/text.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Iserver $(call pc_cflags,glib-2.0) -o $@ $^ $(call pc_libs,glib-2.0)

$(FUZZ_PARSE:%=$(BUILD)/tests/fuzz/fuzz_%): $(BUILD)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/server/parse.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Iserver $(call pc_cflags,jansson) -o $@ $^ $(call pc_libs,jansson)

$(BUILD)/tests/fuzz/fuzz_stripe_sig: tests/fuzz/fuzz_stripe_sig.c $(BUILD)/server/stripe_sig.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Iserver $(call pc_cflags,libsodium) -o $@ $^ $(call pc_libs,libsodium)

fuzz-bins: $(FUZZ_BIN:$(FUZZ_BUILD)/%=$(BUILD)/%)

fuzz-build:
	$(MAKE) CC=clang BUILD=$(FUZZ_BUILD) OPT=-O1 SAN="$(FUZZ_SAN)" fuzz-bins

# Each target for FUZZ_SECONDS from its seeds; new inputs go to a scratch
# corpus, so the checked-in seeds change only by hand.
fuzz: deps-test fuzz-build
	@for n in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	    echo "=== fuzz_$$n for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_BUILD)/tests/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/fuzz_$$n- \
	        $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done
# --- end of fuzzing ---------------------------------------------------------

check: $(BUILD)/libdb.a $(BUILD)/libimaging.a
	@scripts/check.sh

bench: deps-test
	$(MAKE) all
	@tests/bench/run.sh

clean:
	rm -rf build
