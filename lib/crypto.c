#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "error.h"

int
pp_crypto_init(void)
{
	/* sodium_init returns 1 when already initialised. */
	return sodium_init() < 0 ? PP_EIO : 0;
}

void
pp_sha256(const void *data, size_t len, unsigned char out[PP_SHA256_LEN])
{
	crypto_hash_sha256(out, data, len);
}

void
pp_hex(const unsigned char *bin, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * len] = '\0';
}

int
pp_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pp_unhex(const char *hex, unsigned char *bin, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int hi = pp_hex_digit((unsigned char)hex[2 * i]), lo;

		if (hi < 0 || (lo = pp_hex_digit((unsigned char)hex[2 * i + 1])) < 0)
			return -1;
		bin[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[2 * len] == '\0' ? 0 : -1;
}

void
pp_sha256_hex(const void *data, size_t len, char hex[PP_HEX256_LEN + 1])
{
	unsigned char h[PP_SHA256_LEN];

	pp_sha256(data, len, h);
	pp_hex(h, sizeof(h), hex);
}

int
pp_random_bytes(void *buf, size_t n)
{
	if (pp_crypto_init() < 0)
		return PP_EIO;
	randombytes_buf(buf, n);
	return 0;
}

int
pp_random_token(char tok[PP_HEX256_LEN + 1])
{
	unsigned char b[32];

	if (pp_random_bytes(b, sizeof(b)) < 0)
		return PP_EIO;
	pp_hex(b, sizeof(b), tok);
	sodium_memzero(b, sizeof(b));
	return 0;
}
