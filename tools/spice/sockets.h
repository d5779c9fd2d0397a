/* SPDX-License-Identifier: GPL-2.0 */
/* The sockets of an image, described and tried here (sockets.c). */
#ifndef __SPICE_SOCKETS_H
#define __SPICE_SOCKETS_H

#include <stddef.h>
#include <linux/spice.h>

/* "TCPv4 127.0.0.1:8080", "unix stream /run/fn.sock", into @buf. */
const char *socket_describe(const struct spice_image_socket *s, char *buf,
			    size_t len);

/*
 * Make and bind socket @s here, as restore_process() would for this
 * process, and close it again: 0, or what failed, and why, in @why (@len
 * bytes).  An AF_UNIX path is not bound (that would leave its file), only
 * looked up; a listener does not listen, nor is a UDP socket with
 * SO_REUSEPORT bound (either would take what a running instance's group
 * is sent).
 */
int socket_try(const struct spice_image_socket *s, char *why, size_t len);

#endif /* __SPICE_SOCKETS_H */
