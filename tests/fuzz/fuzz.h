/* fuzz.h — what every target in tests/fuzz/ shares.
 *
 * A target defines LLVMFuzzerTestOneInput. Built with clang and
 * -fsanitize=fuzzer (MQTTTY_FUZZ=ON) it is a libFuzzer binary; built with
 * the normal compiler and tests/fuzz/replay.c it is a regression test that
 * runs every file of its corpus and crash directories once (ctest).
 * A broken invariant calls fuzz_fail(), which aborts with a message, so
 * libFuzzer keeps the input as a crash. */
#ifndef MQTTTY_FUZZ_H
#define MQTTTY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_fail(...) do { \
	fprintf(stderr, "fuzz invariant broken at %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	abort(); \
} while (0)

#define fuzz_check(cond, ...) do { if (!(cond)) fuzz_fail(__VA_ARGS__); } while (0)

/* err buffers must come back terminated and, on failure, non-empty. */
#define fuzz_check_err(rc, err) do { \
	fuzz_check(memchr((err), '\0', sizeof(err)) != NULL, "err not terminated"); \
	fuzz_check((rc) == 0 || (err)[0] != '\0', "failure without a sentence"); \
} while (0)

#endif
