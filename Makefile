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
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wsign-compare \
           -Wformat=2 -Wformat-nonliteral
CFLAGS   = -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) $(SAN) -pthread
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

.PHONY: all run test check bench clean deps-run deps-test unit http browser

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

# A unit test links only the library of the module it tests.
$(BUILD)/tests/unit/test_imaging: tests/unit/test_imaging.c $(BUILD)/libimaging.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iimaging $(call pc_cflags,$(IMG_PKGS) cmocka) -o $@ $^ $(call pc_libs,$(IMG_PKGS) cmocka) -lm

# The server's pure parts are tested with just their own objects.
$(BUILD)/tests/unit/test_server: tests/unit/test_server.c $(BUILD)/server/config.o $(BUILD)/server/text.o $(BUILD)/server/parse.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iserver $(call pc_cflags,cmocka) -o $@ $^ $(call pc_libs,cmocka)

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

# The sanitizer build lives beside the normal one; the HTTP tests run against it.
test: deps-test
	@scripts/check.sh
	$(MAKE) all unit http
	$(MAKE) BUILD=build/asan OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    all unit
	@scripts/run-tests.sh

check:
	@scripts/check.sh

bench: deps-test
	$(MAKE) all
	@tests/bench/run.sh

clean:
	rm -rf build
