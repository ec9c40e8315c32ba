/* SPDX-License-Identifier: GPL-2.0 */
/* attach.h -- where the program runs. attach.c owns the table of NICs this
 * helper attached and the program fd it links them to; no other stage sees
 * either, they only ask for everything to be detached.
 */
#ifndef WG_RELAY_HELPER_ATTACH_H
#define WG_RELAY_HELPER_ATTACH_H

/* Before any other call, as it marks every slot free (a zeroed slot would
 * hold fd 0): prog_fd is the loaded relay program. */
void attach_init(int prog_fd);

/* Detaches every NIC this helper attached. */
void detach_all(void);

void cmd_attach(int argc, char **argv);
void cmd_detach(int argc, char **argv);

#endif /* WG_RELAY_HELPER_ATTACH_H */
