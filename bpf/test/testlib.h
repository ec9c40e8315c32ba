/* SPDX-License-Identifier: GPL-2.0 */
/* testlib.h -- what the userspace test programs (fixtures, microbench) share:
 * fatal errors, IPv4 text to network order, and the Internet checksum with
 * which they build frames independently of the program under test.
 * Header-only (static functions); needs _GNU_SOURCE before any include. */
#ifndef WG_RELAY_TESTLIB_H
#define WG_RELAY_TESTLIB_H

#include <arpa/inet.h>
#include <errno.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints "<program>: <message>" and exits 2 (a setup failure, not a failed check). */
__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static __u32 ip4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		die("bad ip %s", s);
	return a.s_addr;
}

/* RFC 1071 over n bytes, in network order; 0 over a header whose checksum is valid. */
static __u16 csum16(const void *p, size_t n)
{
	const __u8 *b = p;
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (__u32)(b[i] << 8 | b[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

#endif /* WG_RELAY_TESTLIB_H */
