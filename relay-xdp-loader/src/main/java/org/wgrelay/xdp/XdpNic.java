package org.wgrelay.xdp;

/** A NIC the program is attached to: where it sends from ({@code wg_nics}). */
public record XdpNic(String name, int ifindex, String ip, String mac) {}
