/* SPDX-License-Identifier: GPL-2.0 */
/* protocol.h -- the line protocol of ../PROTOCOL.md as the other stages see
 * it: say() is the only way an answer reaches stdout, the parsers are the
 * only way a field becomes a number or an address, and serve() is the loop
 * that reads stdin and hands each line to its command. Keeping every byte
 * of framing and parsing here is what keeps the answers identical whatever
 * stage a command lives in.
 */
#ifndef WG_RELAY_HELPER_PROTOCOL_H
#define WG_RELAY_HELPER_PROTOCOL_H

#include <arpa/inet.h>
#include <linux/types.h>

/* One line to the Java side, flushed at once; exits like EOF when nobody
 * reads any more. */
__attribute__((format(printf, 1, 2))) void say(const char *fmt, ...);

/* 0, or -1 for a field the protocol does not accept. Ports and addresses
 * come out in network order, as the maps hold them. */
int parse_u32(const char *s, __u32 max, __u32 *out);
int parse_port(const char *s, __u16 *net);
int parse_ip(const char *s, __u32 *net);
int parse_mac(const char *s, __u8 mac[6]);

const char *ip_str(__u32 net, char buf[INET_ADDRSTRLEN]);

/* Runs the command of every stdin line until stdin ends or a signal is
 * readable on sigfd, then detaches everything and exits. */
__attribute__((noreturn)) void serve(int sigfd);

#endif /* WG_RELAY_HELPER_PROTOCOL_H */
