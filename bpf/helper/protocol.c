// SPDX-License-Identifier: GPL-2.0
/* protocol.c -- the text stage of the helper: stdin bytes become lines,
 * lines become fields, fields are vetted once (count, length, printable) so
 * every command may echo them, and the command table picks the stage that
 * acts on them; answers go out through say() in strict request order. The
 * commands themselves live with the state they touch (maps.c, attach.c,
 * stats.c, abi.c, main.c); nothing here knows a map or an attachment.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "attach.h"
#include "main.h"
#include "maps.h"
#include "protocol.h"
#include "stats.h"

#define MAX_LINE 1024
#define MAX_FIELDS 16

/* ---- output ------------------------------------------------------------ */

/* A failed write means nobody reads any more: the same as EOF. */
void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (fflush(stdout) != 0 || ferror(stdout))
		shutdown_and_exit(0);
}

/* ---- parsing ----------------------------------------------------------- */

int parse_u32(const char *s, __u32 max, __u32 *out)
{
	unsigned long long v = 0;

	if (!*s || strlen(s) > 10)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = (__u32)v;
	return 0;
}

int parse_port(const char *s, __u16 *net)
{
	__u32 v;

	if (parse_u32(s, 65535, &v) || v == 0)
		return -1;
	*net = htons((__u16)v);
	return 0;
}

int parse_ip(const char *s, __u32 *net)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*net = a.s_addr;
	return 0;
}

int parse_mac(const char *s, __u8 mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -1;
		char hex[3] = { p[0], p[1], 0 };

		mac[i] = (__u8)strtoul(hex, NULL, 16);
	}
	return 0;
}

const char *ip_str(__u32 net, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = { .s_addr = net };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* ---- dispatch ---------------------------------------------------------- */

static const struct {
	const char *name;
	void (*run)(int argc, char **argv);
} commands[] = {
	{ "attach", cmd_attach }, { "detach", cmd_detach },   { "config", cmd_config },
	{ "nic", cmd_nic },	  { "unnic", cmd_unnic },     { "peer", cmd_peer },
	{ "unpeer", cmd_unpeer }, { "session", cmd_session }, { "unsession", cmd_unsession },
	{ "block", cmd_block },	  { "unblock", cmd_unblock }, { "stats", cmd_stats },
	{ "clear", cmd_clear },	  { "abi", cmd_abi },	      { "ping", cmd_ping },
	{ "onexit", cmd_onexit }, { "dump", cmd_dump },
};

/* Echoes a client-supplied word into an answer without letting it break
 * the line protocol. */
static const char *printable(const char *s)
{
	static char buf[40];
	size_t i;

	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = isgraph((unsigned char)s[i]) ? s[i] : '?';
	buf[i] = 0;
	return buf[0] ? buf : "-";
}

static void run_line(char *line, size_t len)
{
	char *argv[MAX_FIELDS + 1];
	int argc = 0;

	if (len && line[len - 1] == '\r')
		line[--len] = 0;
	if (memchr(line, 0, len)) {
		say("err - reason=NUL byte in line");
		return;
	}
	for (char *save = NULL, *tok = strtok_r(line, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (argc == MAX_FIELDS) {
			say("err %s reason=too many fields", printable(argv[0]));
			return;
		}
		argv[argc++] = tok;
	}
	if (argc == 0) {
		say("err - reason=empty line");
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name)) {
			/* every field is then safe to echo into an answer */
			for (int j = 1; j < argc; j++) {
				if (strlen(argv[j]) > 64) {
					say("err %s reason=field too long", argv[0]);
					return;
				}
				for (const char *c = argv[j]; *c; c++)
					if (!isgraph((unsigned char)*c)) {
						say("err %s reason=non-printable character",
						    argv[0]);
						return;
					}
			}
			commands[i].run(argc, argv);
			return;
		}
	say("err %s reason=unknown command", printable(argv[0]));
}

/* ---- the loop ---------------------------------------------------------- */

/* Signals arrive on sigfd as readable events next to stdin: no races with a
 * blocking read, no work in a signal handler. */
void serve(int sigfd)
{
	static char buf[MAX_LINE + 1];
	size_t used = 0;
	int discarding = 0; /* inside an over-long line */

	for (;;) {
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
				       { .fd = sigfd, .events = POLLIN } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			shutdown_and_exit(1);
		}
		if (p[1].revents & POLLIN)
			shutdown_and_exit(0);
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(STDIN_FILENO, buf + used, MAX_LINE - used);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			shutdown_and_exit(0); /* EOF: the JVM is gone or let go */
		used += (size_t)n;
		char *start = buf, *nl;

		while ((nl = memchr(start, '\n', used - (size_t)(start - buf)))) {
			*nl = 0;
			if (discarding)
				discarding = 0;
			else
				run_line(start, (size_t)(nl - start));
			start = nl + 1;
		}
		used -= (size_t)(start - buf);
		memmove(buf, start, used);
		if (used == MAX_LINE) {
			/* no newline in MAX_LINE bytes: answer once, skip to the next newline */
			if (!discarding) {
				buf[32] = 0;
				char *word = strtok(buf, " \t");

				say("err %s reason=line too long", printable(word ? word : "-"));
			}
			discarding = 1;
			used = 0;
		}
	}
}
