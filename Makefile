# Builds the C core from CSources/EnclaveCore as a standalone library for other languages:
#   make                    libenclave_core.so.MAJOR.MINOR.PATCH (+ .so.MAJOR, .so), .a and .pc in build/c
#   make install PREFIX=/x  header, libraries and enclave_core.pc under /x
#   make check-c            the C test program under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzzers            libFuzzer targets (ASan + UBSan) in build/fuzz
# The same sources are the SwiftPM target CEnclaveCore, which ignores this file.

SRC_DIR := CSources/EnclaveCore
HEADER := $(SRC_DIR)/include/enclave_core.h
SOURCES := $(wildcard $(SRC_DIR)/*.c)
BUILD ?= build/c
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

version_part = $(shell sed -n 's/^\#define EC_VERSION_$(1) \([0-9]*\)$$/\1/p' $(HEADER))
MAJOR := $(call version_part,MAJOR)
VERSION := $(MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)

CC ?= cc
# Swift's clang carries libFuzzer and the sanitizer runtimes.
SAN_CC ?= clang
WARN := -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion -Werror
CFLAGS ?= -O2 -g
LIB_CFLAGS := $(CFLAGS) $(WARN) -std=c11 -fPIC -fvisibility=hidden -I$(SRC_DIR)/include
LIBS := -lcrypto -lb2 -lsodium
SAN_FLAGS := -fuse-ld=lld -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

SONAME := libenclave_core.so.$(MAJOR)
SHARED := $(BUILD)/libenclave_core.so.$(VERSION)
STATIC := $(BUILD)/libenclave_core.a
PC := $(BUILD)/enclave_core.pc
OBJECTS := $(patsubst $(SRC_DIR)/%.c,$(BUILD)/obj/%.o,$(SOURCES))

.PHONY: all install check-c fuzzers tools tools-asan clean
all: $(SHARED) $(STATIC) $(PC)

$(BUILD)/obj/%.o: $(SRC_DIR)/%.c $(HEADER) $(SRC_DIR)/ec_internal.h $(SRC_DIR)/cbor.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(SHARED): $(OBJECTS)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $@ $^ $(LIBS)
	ln -sf $(notdir $@) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $(BUILD)/libenclave_core.so

$(STATIC): $(OBJECTS)
	rm -f $@
	ar rcs $@ $^

# The .pc names its prefix, so install writes it again for the prefix it installs to.
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'
$(PC): enclave_core.pc.in $(HEADER)
	@mkdir -p $(BUILD)
	$(PC_SED) $< > $@

install: all
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 $(HEADER) $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHARED)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libenclave_core.so
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	$(PC_SED) enclave_core.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/enclave_core.pc

$(BUILD)/vectors.txt: Tests/Vectors/flatten.py $(wildcard Tests/Vectors/*.json Tests/Vectors/*.txt)
	@mkdir -p $(BUILD)
	python3 $< $@

$(BUILD)/core_test: CSources/tests/core_test.c $(SOURCES) $(HEADER) $(SRC_DIR)/cbor.h $(SRC_DIR)/ec_internal.h
	@mkdir -p $(BUILD)
	$(SAN_CC) $(SAN_FLAGS) $(WARN) -std=c11 -I$(SRC_DIR)/include -I$(SRC_DIR) -o $@ $< $(SOURCES) $(LIBS)

check-c: $(BUILD)/core_test $(BUILD)/vectors.txt
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(BUILD)/core_test $(BUILD)/vectors.txt Tests/Vectors/nitro

# enclave-rpc: the C client on libcurl, linked to the shared library built here.
tools: $(BUILD)/enclave-rpc
$(BUILD)/enclave-rpc: tools/enclave-rpc/enclave_rpc.c $(SHARED) $(HEADER)
	$(CC) $(CFLAGS) $(WARN) -Wno-conversion -std=c11 -I$(SRC_DIR)/include -o $@ $< -L$(BUILD) -lenclave_core \
	    -Wl,-rpath,'$$ORIGIN' -lcurl -lssl -lcrypto

# The same client under AddressSanitizer + UndefinedBehaviorSanitizer, for the tests that feed it
# hostile documents (it links the core's sources, not the shared library).
tools-asan: $(BUILD)/enclave-rpc-asan
$(BUILD)/enclave-rpc-asan: tools/enclave-rpc/enclave_rpc.c tools/enclave-rpc/asan_openssl_shim.h $(SOURCES) $(HEADER)
	@mkdir -p $(BUILD)/asan
	$(SAN_CC) $(filter-out -fuse-ld=lld,$(SAN_FLAGS)) -std=c11 -include tools/enclave-rpc/asan_openssl_shim.h -I$(SRC_DIR)/include -c $< -o $(BUILD)/asan/enclave_rpc.o
	$(SAN_CC) $(SAN_FLAGS) -std=c11 -I$(SRC_DIR)/include -o $@ $(BUILD)/asan/enclave_rpc.o $(SOURCES) $(LIBS) -lcurl -lssl

FUZZ_TARGETS := $(patsubst CSources/fuzz/%.c,build/fuzz/%,$(wildcard CSources/fuzz/fuzz_*.c))
fuzzers: $(FUZZ_TARGETS)
build/fuzz/%: CSources/fuzz/%.c $(SOURCES) $(HEADER)
	@mkdir -p build/fuzz
	$(SAN_CC) -fuse-ld=lld -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -I$(SRC_DIR)/include -o $@ $< $(SOURCES) $(LIBS)

clean:
	rm -rf build
