// SPDX-License-Identifier: GPL-2.0
/* main.c -- wg-relay-xdp-helper, the privileged hands of the Java loader:
 * startup and the end of the process. It has progs.c load wg_relay.bpf.o
 * (argv[1]) and then lets protocol.c run one command per stdin line (see
 * ../PROTOCOL.md). It holds no policy: the Java side decides what goes into
 * the maps, and whether the program outlives the helper (`onexit`). XDP is
 * attached through bpf_link, so unless the link is pinned (`onexit keep`)
 * the kernel detaches the program when this process dies however it dies;
 * on stdin EOF (the JVM exited or closed the pipe) and on
 * SIGTERM/SIGINT/SIGHUP the helper also detaches every NIC explicitly and
 * removes its pins, or with `onexit keep` leaves program, maps and links
 * pinned, and exits 0: the process's exit is the barrier after which the
 * NICs run what they will run without it. Single-threaded: the command loop
 * is the only writer of every map the program does not write itself.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../wg_relay_abi.h"
#include "attach.h"
#include "main.h"
#include "maps.h"
#include "pins.h"
#include "progs.h"
#include "protocol.h"

/* ---- the end ----------------------------------------------------------- */

void fatal(const char *fmt, ...)
{
	va_list ap;

	printf("fatal ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

void shutdown_and_exit(int code)
{
	attach_exit(); /* detaches, or leaves what is to be kept to its pins */
	progs_close();
	_exit(code);
}

/* ---- startup ----------------------------------------------------------- */

static int libbpf_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level <= LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Ready means loaded and reading: the Java side waits for this answer. */
void cmd_ping(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		say("err ping reason=usage: ping");
		return;
	}
	say("pong");
}

int main(int argc, char **argv)
{
	sigset_t sigs;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2)
		fatal("usage: wg-relay-xdp-helper <wg_relay.bpf.o>");
	libbpf_set_print(libbpf_warnings);

	/* Signals become readable events for serve(), taken while blocked. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	if (sfd < 0)
		fatal("signalfd: %s", strerror(errno));
	/* Leave the caller's process group when driven through a pipe: a
	 * terminal's Ctrl-C then reaches only the JVM, which detaches in its
	 * own order and closes our stdin. */
	if (!isatty(STDIN_FILENO))
		setpgid(0, 0);

	pins_init();
	attach_init();
	maps_init();
	progs_load(argv[1]);
	serve(sfd);
}
