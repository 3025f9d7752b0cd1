/* Hashes, random tokens and constant-time comparison, from libsodium.
 *
 * Content hashes are SHA-256, written as 64 lowercase hex digits. Tokens
 * are 256 random bits, written the same way; the store keeps only their
 * SHA-256.
 */
#ifndef PP_CRYPTO_H
#define PP_CRYPTO_H

#include <stddef.h>

#define PP_SHA256_LEN	32
#define PP_HEX256_LEN	64	/* without the NUL */

/* Initialises libsodium; idempotent. Returns 0 or PP_EIO when the system
 * has no source of randomness. */
int pp_crypto_init(void);

/* out gets the SHA-256 of data. */
void pp_sha256(const void *data, size_t len, unsigned char out[PP_SHA256_LEN]);

/* hex gets the SHA-256 of data as 64 hex digits and a NUL. */
void pp_sha256_hex(const void *data, size_t len, char hex[PP_HEX256_LEN + 1]);

/* hex gets len bytes of bin as 2*len lowercase hex digits and a NUL. */
void pp_hex(const unsigned char *bin, size_t len, char *hex);

/* The value of hex digit c (either case), or -1. */
int pp_hex_digit(int c);

/* Parses exactly 2*len hex digits of hex into bin. Returns 0, or -1 when
 * hex is not that. */
int pp_unhex(const char *hex, unsigned char *bin, size_t len);

/* tok gets a fresh 256-bit token as 64 hex digits and a NUL. Returns 0
 * or PP_EIO (pp_crypto_init failed). */
int pp_random_token(char tok[PP_HEX256_LEN + 1]);

/* n random bytes into buf. Returns 0 or PP_EIO. */
int pp_random_bytes(void *buf, size_t n);

#endif
